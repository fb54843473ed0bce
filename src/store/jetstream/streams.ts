/**
 * JetStream streams: the configurations the adapter uses (one per category, one for dead letters) and the
 * one way any of them is created (`ensureStream`, used by the store and by `eventbench init`). An existing
 * stream is compared field by field and never changed: a team's live stream is not ours to reconfigure.
 */
import { nanos } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { ConfigError } from '../../core/event-store.ts';
import { filtersOverlap } from '../../core/subjects.ts';
import type { InitItem } from '../backend.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import type { JetStreamNames } from './naming.ts';
import type { JetStreamSettings } from './settings.ts';

export type StreamSpec = Partial<StreamConfig> & { name: string };

/** The JetStream stream of one category: every aggregate stream `<category>-<id>` is a subject in it. */
export function categoryStreamConfig(names: JetStreamNames, category: string, settings: JetStreamSettings, atomic: boolean): StreamSpec {
  return {
    name: names.categoryStream(category),
    subjects: [names.categoryFilter(category)],
    retention: RetentionPolicy.Limits,
    storage: settings.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(settings.duplicateWindowMs),
    max_age: nanos(settings.maxAgeMs),
    max_msgs: settings.maxMsgs,
    max_bytes: settings.maxBytes,
    discard: settings.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    ...(atomic ? { allow_atomic: true } : {}),
  } as StreamSpec;
}

/** The dead-letter stream of a namespace: file storage, nothing expires (dead letters wait for a human). */
export function deadLetterStreamConfig(names: JetStreamNames, settings: JetStreamSettings): StreamSpec {
  return {
    name: names.deadLetterStream,
    subjects: [names.deadLetterFilter],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: settings.replicas,
  };
}

export interface Difference {
  field: string;
  server: unknown;
  wanted: unknown;
}

const fmt = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

/** Fields of `want` whose value on the server differs (names and the order of lists aside). */
export function fieldDifferences(want: Record<string, unknown>, have: Record<string, unknown>): Difference[] {
  const out: Difference[] = [];
  for (const [field, value] of Object.entries(want)) {
    if (field === 'name' || field === 'durable_name') continue;
    let a = have[field];
    let b = value;
    if (Array.isArray(a) && Array.isArray(b)) {
      a = [...a].sort();
      b = [...b].sort();
    }
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) out.push({ field, server: a, wanted: b });
  }
  return out;
}

/** The same as "field: server X, preset Y" lines (what `eventbench init` reports). */
export function differences(want: Record<string, unknown>, have: Record<string, unknown>): string[] {
  return fieldDifferences(want, have).map((d) => `${d.field}: server ${fmt(d.server)}, preset ${fmt(d.wanted)}`);
}

export interface EnsuredStream {
  item: InitItem;
  /** For an existing stream: where it differs from `cfg` (left as it is). */
  differences: Difference[];
}

/**
 * Creates `cfg` unless a stream of its name exists (then compares). Safe against a concurrent creator.
 * `source` says where the configuration comes from, for the report. Refusals are `ConfigError`s that say
 * what to do: too many replicas for this server, or subjects another stream already captures.
 */
export async function ensureStream(jsm: JetStreamManager, cfg: StreamSpec, source: string): Promise<EnsuredStream> {
  const existing = await existingStream(jsm, cfg.name);
  if (existing) return compared(cfg, existing, source);
  try {
    await jsm.streams.add(cfg);
    return { item: { kind: 'stream', name: cfg.name, status: 'created', detail: source }, differences: [] };
  } catch (err) {
    const code = apiCode(err);
    if (code === JS_ERR.streamNameInUse || code === JS_ERR.subjectsOverlap) {
      // Created meanwhile by another process. nats-server refuses the slower of two concurrent creates
      // with "name already in use" or with "subjects overlap", the overlapping stream being this very one
      // (seen in a full test run: two processes appending to a new category at the same moment).
      const now = await existingStream(jsm, cfg.name);
      if (now) return compared(cfg, now, source);
    }
    if (code === JS_ERR.replicasNotSupported || code === JS_ERR.insufficientResources) {
      throw new ConfigError(
        `stream ${cfg.name} needs ${cfg.num_replicas} replicas (${source}), but this nats-server cannot place them: ${(err as Error).message}. ` +
          'Run against a JetStream cluster of at least that many nodes (the prod preset is R3), or ask for fewer replicas (another preset, settings.replicas).',
        { cause: err },
      );
    }
    if (code === JS_ERR.subjectsOverlap) throw await overlapError(jsm, cfg, err);
    throw translateReadError(err);
  }
}

async function existingStream(jsm: JetStreamManager, name: string): Promise<StreamConfig | undefined> {
  try {
    return (await jsm.streams.info(name)).config;
  } catch (err) {
    if (apiCode(err) === JS_ERR.streamNotFound) return undefined;
    throw translateReadError(err);
  }
}

function compared(cfg: StreamSpec, have: StreamConfig, source: string): EnsuredStream {
  const diff = fieldDifferences(cfg, have as unknown as Record<string, unknown>);
  if (diff.length === 0) return { item: { kind: 'stream', name: cfg.name, status: 'unchanged' }, differences: [] };
  const detail = diff.map((d) => `${d.field}: server ${fmt(d.server)}, preset ${fmt(d.wanted)}`).join('; ');
  return { item: { kind: 'stream', name: cfg.name, status: 'differs', detail: `${detail} (left as it is; ${source})` }, differences: diff };
}

/**
 * nats-server says only "subjects overlap with an existing stream" (10065): find which one, so the user
 * knows what is in the way, and point at `--namespace`, which gives every stream and subject a prefix.
 */
async function overlapError(jsm: JetStreamManager, cfg: StreamSpec, err: unknown): Promise<ConfigError> {
  const wanted = cfg.subjects ?? [];
  const culprits: string[] = [];
  try {
    for await (const si of jsm.streams.list()) {
      const clash = (si.config.subjects ?? []).filter((have) => wanted.some((w) => filtersOverlap(w, have)));
      if (si.config.name !== cfg.name && clash.length > 0) culprits.push(`${si.config.name} (${clash.join(', ')})`);
    }
  } catch {
    // Naming the stream is a courtesy: without the list the refusal still stands.
  }
  const which = culprits.length > 0 ? `existing stream ${culprits.join(', existing stream ')}` : 'an existing stream';
  return new ConfigError(
    `stream ${cfg.name}: its subjects ${fmt(wanted)} overlap those of ${which}: ` +
      'use another namespace (--namespace NAME prefixes every stream and subject), or delete the stream in the way',
    { cause: err },
  );
}
