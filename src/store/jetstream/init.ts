/**
 * `eventbench init --backend jetstream [--preset NAME]`: creates the seeds' streams and consumers
 * idempotently. An existing stream or consumer is compared field by field and any difference is
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
  type StreamConfig,
} from '@nats-io/jetstream';
import { ConfigError } from '../../core/event-store.ts';
import type { BackendOptions, InitReport } from '../index.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import { jetStreamNames } from './naming.ts';
import { namespaced, presetsFor, type ConsumerPreset, type StreamPreset } from './presets.ts';
import { parseJetStreamSettings } from './settings.ts';
import { connectNats, deadLetterStreamConfig } from './store.ts';

type Item = InitReport['items'][number];

export function streamConfigOf(p: StreamPreset): Partial<StreamConfig> & { name: string } {
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

const fmt = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** Fields of `want` whose value on the server differs, as "field: server X, preset Y". */
export function differences(want: Record<string, unknown>, have: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(want)) {
    if (key === 'name' || key === 'durable_name') continue;
    let a = have[key];
    let b = value;
    if (Array.isArray(a) && Array.isArray(b)) {
      a = [...a].sort();
      b = [...b].sort();
    }
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push(`${key}: server ${fmt(a)}, preset ${fmt(b)}`);
  }
  return out;
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }, source: string): Promise<Item> {
  try {
    const info = await jsm.streams.info(cfg.name);
    const diff = differences(cfg, info.config as unknown as Record<string, unknown>);
    return diff.length === 0
      ? { kind: 'stream', name: cfg.name, status: 'unchanged' }
      : { kind: 'stream', name: cfg.name, status: 'differs', detail: `${diff.join('; ')} (left as it is; ${source})` };
  } catch (err) {
    if (apiCode(err) !== JS_ERR.streamNotFound) throw translateReadError(err);
  }
  try {
    await jsm.streams.add(cfg);
    return { kind: 'stream', name: cfg.name, status: 'created', detail: source };
  } catch (err) {
    if (apiCode(err) === JS_ERR.replicasNotSupported || apiCode(err) === JS_ERR.insufficientResources) {
      throw new ConfigError(
        `stream ${cfg.name} needs ${cfg.num_replicas} replicas (${source}), but this nats-server cannot place them: ${(err as Error).message}. ` +
          'Run against a JetStream cluster of at least that many nodes (the prod environment of seed 003 is R3), or use another preset.',
        { cause: err },
      );
    }
    if (apiCode(err) === JS_ERR.subjectsOverlap) {
      throw new ConfigError(`stream ${cfg.name}: its subjects ${fmt(cfg.subjects)} overlap an existing stream's (${(err as Error).message})`, {
        cause: err,
      });
    }
    throw translateReadError(err);
  }
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

/** The backend's `init`: with a preset, the seeds' streams and consumers; without, the adapter's own dead-letter stream. */
export async function initJetStream(options: BackendOptions & { preset?: string }): Promise<InitReport> {
  const settings = parseJetStreamSettings(options.settings);
  const presets = options.preset === undefined ? [] : presetsFor(options.preset).map((p) => namespaced(p, options.namespace));
  const names = jetStreamNames(options.namespace);
  const nc = await connectNats(options.natsUrl, 'eventbench-init');
  const items: Item[] = [];
  try {
    const jsm = await jetstreamManager(nc).catch((err) => Promise.reject(translateReadError(err)));
    if (presets.length === 0) {
      items.push(await ensureStream(jsm, deadLetterStreamConfig(names, settings), 'eventbench dead letters'));
    }
    for (const preset of presets) {
      for (const s of preset.streams) {
        try {
          items.push(await ensureStream(jsm, streamConfigOf(s), s.source));
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
