/**
 * What a backend is, for the registry (src/store/index.ts) and its callers: a small static descriptor
 * (which servers it needs, whether one store can serve several worker threads, how its settings are
 * checked) that loads no driver, plus `create` / `init`, which do. Adapters import these types from here,
 * the registry imports the adapters: no cycle.
 */
import { z } from 'zod';
import { ConfigError, type EventStore } from '../core/event-store.ts';

/** What every backend gets: server URLs resolved by src/infra, and a namespace that isolates a run or a test. */
export interface BackendOptions {
  /** postgres://... (postgres) */
  pgUrl?: string;
  /** nats://... (jetstream) */
  natsUrl?: string;
  /** PostgreSQL schema / JetStream stream-name and subject prefix. Default `eventbench`. */
  namespace?: string;
  /** Backend-specific settings (e.g. JetStream duplicate window, PostgreSQL pool size), checked by the descriptor. */
  settings?: Record<string, unknown>;
}

/** One thing `eventbench init` created, found unchanged, or found different (never silently changed). */
export interface InitItem {
  kind: string;
  name: string;
  status: 'created' | 'unchanged' | 'updated' | 'differs';
  detail?: string;
}

/** A report of what `eventbench init` did. */
export interface InitReport {
  backend: string;
  items: InitItem[];
}

/**
 * The static part of a backend: in its folder's `descriptor.ts`, importing nothing heavier than zod, so
 * the registry (and every CLI start, `--help` included) can read it without loading kysely / pg / nats
 * (~0.5 s of imports here).
 */
export interface BackendDescriptor<TSettings = unknown> {
  name: string;
  /** Which servers the backend needs, so infra starts only those. */
  needs: { postgres: boolean; nats: boolean };
  /**
   * True when stores opened in several worker threads of one process share one set of data (a server's).
   * False for `memory`, whose data lives inside one thread: a load run with workers cannot use it.
   */
  sharedAcrossThreads: boolean;
  /** Checks `BackendOptions.settings`: a `ConfigError` naming the key that is unknown or wrong. */
  parseSettings(raw: Record<string, unknown> | undefined): TSettings;
  /**
   * Set on a raw-driver baseline (OpenMessaging Benchmark's "every system through one driver"): the
   * adapter whose work it does with the driver alone, writing the same rows / messages, so that
   * `eventbench bench` can put adapter / raw in one table. What the baseline does not do itself
   * (subscriptions, storage statistics) the harness asks the adapter of the same namespace for.
   */
  baselineOf?: string;
}

export interface BackendModule<TSettings = unknown> extends BackendDescriptor<TSettings> {
  create(options: BackendOptions): Promise<EventStore>;
  /** `eventbench init`: migrations / stream presets, idempotent. */
  init(options: BackendOptions & { preset?: string }): Promise<InitReport>;
  /**
   * The settings that decide what an acknowledgement means, read back from the server in a session
   * opened exactly as the store opens its own (e.g. `synchronous_commit` after `--durability matched`):
   * results quote what the server said, not what was asked for. Absent where the client sets nothing.
   */
  sessionSettings?(options: BackendOptions): Promise<Record<string, string>>;
}

/** The error of an EventStore method a raw-driver baseline does not offer: clear, and never a silent no-op. */
export function notOfferedByBaseline(backend: string, method: string, instead: string): ConfigError {
  return new ConfigError(`${backend} is a raw-driver baseline for benchmarks and does not offer ${method}; use the ${instead} backend for it`);
}

/**
 * A `parseSettings` from a zod object schema: unknown keys are refused (a typo must not pass as a
 * default), and the message names the backend and the key.
 */
export function settingsParser<S extends z.ZodRawShape>(backend: string, schema: z.ZodObject<S>): (raw: Record<string, unknown> | undefined) => z.infer<z.ZodObject<S>> {
  const strict = schema.strict();
  return (raw) => {
    if (raw !== undefined && (typeof raw !== 'object' || raw === null || Array.isArray(raw))) {
      throw new ConfigError(`${backend} settings must be an object of key: value`);
    }
    const r = strict.safeParse(raw ?? {});
    if (r.success) return r.data as z.infer<z.ZodObject<S>>;
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(`${backend} setting ${issue.keys.join(', ')} is unknown; known: ${Object.keys(schema.shape).join(', ')}`);
    }
    throw new ConfigError(`${backend} setting ${issue.path.map(String).join('.') || '(settings)'}: ${issue.message}`);
  };
}
