/**
 * `eventbench init --backend jetstream [--preset NAME]`: creates the designs' streams and consumers
 * (docs/streams-and-consumers.md) idempotently. An existing stream or consumer is compared field by field and any difference is
 * reported (`differs`), never changed: a team's live stream is not ours to reconfigure.
 */
import { nanos } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  ReplayPolicy,
  RetentionPolicy,
  StorageType,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { ConfigError } from '../../core/event-store.ts';
import type { BackendOptions, InitItem, InitReport } from '../backend.ts';
import { connectNats } from './connection.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import { jetStreamNames } from './naming.ts';
import { namespaced, presetsFor, type ConsumerPreset, type StreamPreset } from './presets.ts';
import { parseJetStreamSettings } from './settings.ts';
import { deadLetterStreamConfig, differences, ensureStream, type StreamSpec } from './streams.ts';

type Item = InitItem;

export function streamConfigOf(p: StreamPreset): StreamSpec {
  return {
    name: p.name,
    subjects: p.subjects,
    storage: p.storage === 'memory' ? StorageType.Memory : StorageType.File,
    retention:
      p.retention === 'interest' ? RetentionPolicy.Interest : p.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    max_age: nanos(p.maxAgeMs),
    max_msgs: p.maxMsgs,
    max_bytes: p.maxBytes,
    num_replicas: p.replicas,
    discard: p.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
  };
}

export function consumerConfigOf(c: ConsumerPreset): Partial<ConsumerConfig> {
  return {
    durable_name: c.durable,
    filter_subject: c.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: c.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    max_deliver: c.maxDeliver,
    ack_wait: nanos(c.ackWaitMs),
    max_ack_pending: c.maxAckPending,
    replay_policy: ReplayPolicy.Instant,
  };
}

async function ensureConsumer(jsm: JetStreamManager, stream: string, cfg: Partial<ConsumerConfig>, source: string): Promise<Item> {
  const name = `${stream}/${cfg.durable_name}`;
  try {
    const info = await jsm.consumers.info(stream, cfg.durable_name!);
    const diff = differences(cfg, info.config as unknown as Record<string, unknown>);
    return diff.length === 0
      ? { kind: 'consumer', name, status: 'unchanged' }
      : { kind: 'consumer', name, status: 'differs', detail: `${diff.join('; ')} (left as it is; ${source})` };
  } catch (err) {
    if (apiCode(err) !== JS_ERR.consumerNotFound && apiCode(err) !== JS_ERR.streamNotFound) throw translateReadError(err);
  }
  try {
    await jsm.consumers.add(stream, cfg);
    return { kind: 'consumer', name, status: 'created', detail: source };
  } catch (err) {
    throw translateReadError(err);
  }
}

/** The backend's `init`: with a preset, the designs' streams and consumers; without, the adapter's own dead-letter stream. */
export async function initJetStream(options: BackendOptions & { preset?: string }): Promise<InitReport> {
  const settings = parseJetStreamSettings(options.settings);
  const presets = options.preset === undefined ? [] : presetsFor(options.preset).map((p) => namespaced(p, options.namespace));
  const names = jetStreamNames(options.namespace);
  const nc = await connectNats(options.natsUrl, 'eventbench-init');
  const items: Item[] = [];
  try {
    const jsm = await jetstreamManager(nc).catch((err) => Promise.reject(translateReadError(err)));
    if (presets.length === 0) {
      items.push((await ensureStream(jsm, deadLetterStreamConfig(names, settings), 'eventbench dead letters')).item);
    }
    for (const preset of presets) {
      for (const s of preset.streams) {
        try {
          items.push((await ensureStream(jsm, streamConfigOf(s), s.source)).item);
        } catch (err) {
          if (err instanceof ConfigError && items.length > 0) {
            const done = items.map((i) => `${i.name} ${i.status}`).join(', ');
            throw new ConfigError(`preset ${preset.name}: ${err.message} (already done: ${done})`, { cause: err });
          }
          if (err instanceof ConfigError) throw new ConfigError(`preset ${preset.name}: ${err.message}`, { cause: err });
          throw err;
        }
      }
      for (const c of preset.consumers) items.push(await ensureConsumer(jsm, c.stream, consumerConfigOf(c), c.source));
    }
  } finally {
    await nc.close().catch(() => {});
  }
  return { backend: 'jetstream', items };
}
