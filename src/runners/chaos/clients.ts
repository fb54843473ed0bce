/**
 * Jepsen-style clients of a chaos run: writer processes that append through the `EventStore` contract
 * with expected versions and record every op in the history, and a consumer that records its deliveries
 * and effects through a durable subscription. Writers are async loops in this Node process (Jepsen's
 * "threads"); the process id a thread writes under changes when an op ends `info` (see history.ts).
 */
import { z } from 'zod';
import {
  CATEGORY_PATTERN,
  EVENT_TYPE_PATTERN,
  ConfigError,
  DuplicateEventError,
  OutcomeUnknownError,
  PartialAppendError,
  StoreUnavailableError,
  VersionConflictError,
  type AppendResult,
  type EventStore,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import type { ErrorKind, HistoryWriter } from './history.ts';

// ---------------------------------------------------------------------------------------------------
// Classifying an append's outcome
// ---------------------------------------------------------------------------------------------------

export interface AppendOutcome {
  type: 'fail' | 'info';
  error: ErrorKind;
  message: string;
  /** The first `acked` events are stored and acknowledged (a partial append). */
  acked?: number;
  positions?: number[];
}

/** The client gave up waiting; the append may still land (the request is out). */
export const TIMEOUT = Symbol('timeout');

/**
 * What a failed append tells the client, exactly: `fail` only where the contract promises nothing was
 * written, `info` wherever the request may have reached the server. The checker does not trust this:
 * a `fail` that is read back anyway is reported (`failedButStored`), so an adapter that says
 * "nothing written" wrongly is caught rather than hidden.
 *
 * - VersionConflictError -> fail: the server judged the expected version before writing (PostgreSQL's
 *   CTE, JetStream's expected-last-subject-sequence) and wrote nothing.
 * - DuplicateEventError -> fail: the ids were stored by another op; this op added nothing.
 * - StoreUnavailableError -> fail: the contract says the server could not be reached or refused service
 *   and nothing was written (connection refused, connect timeout, no responders).
 * - OutcomeUnknownError -> info: the request left and no answer came (connection lost after sending,
 *   publish timeout): the write may or may not have happened.
 * - our own timeout -> info: same, seen from the client; the append continues in the background.
 * - PartialAppendError -> the first `appended` events are acknowledged; the rest are `info` when the
 *   cause is an unknown outcome (the first unstored one may have landed), else `fail`.
 * - ConfigError / CapabilityError -> fail: refused before any write (and the run's setup is wrong).
 * - anything else -> info: an error the contract does not name says nothing about the write; in doubt,
 *   Jepsen records `info`, never `fail`.
 */
export function classifyAppendError(err: unknown): AppendOutcome {
  const message = err === TIMEOUT ? 'no answer before the client timeout' : err instanceof Error ? err.message : String(err);
  if (err === TIMEOUT) return { type: 'info', error: 'timeout', message };
  if (err instanceof VersionConflictError) return { type: 'fail', error: 'version_conflict', message };
  if (err instanceof DuplicateEventError) return { type: 'fail', error: 'duplicate_event', message };
  if (err instanceof StoreUnavailableError) return { type: 'fail', error: 'unavailable', message };
  if (err instanceof OutcomeUnknownError) return { type: 'info', error: 'outcome_unknown', message };
  if (err instanceof PartialAppendError) {
    const restFailed = err.cause instanceof Error && isDefiniteFailure(err.cause);
    return { type: restFailed ? 'fail' : 'info', error: 'partial_append', message, acked: err.appended, positions: err.positions };
  }
  if (err instanceof ConfigError) return { type: 'fail', error: err.code === 'unsupported' ? 'unsupported' : 'config', message };
  return { type: 'info', error: 'other', message };
}

function isDefiniteFailure(err: Error): boolean {
  return err instanceof VersionConflictError || err instanceof DuplicateEventError || err instanceof StoreUnavailableError || err instanceof ConfigError;
}

// ---------------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------------

const ID_PART = /^[A-Za-z0-9_]{1,40}$/;

export const WritersConfigSchema = z
  .object({
    /** Writer threads (Jepsen's concurrency). */
    writers: z.number().int().min(1).max(1024),
    category: z.string().regex(CATEGORY_PATTERN, 'category: letters, digits and "_", starting with a letter'),
    /** Unique per run: stream names and event ids start with it. */
    runId: z.string().regex(ID_PART, 'runId: 1-40 letters, digits or "_"'),
    /** `own`: each thread appends to its own streams (no conflicts between threads); `shared`: all threads race on `count` streams. */
    streams: z.discriminatedUnion('mode', [
      z.object({ mode: z.literal('own'), perWriter: z.number().int().min(1).max(100_000) }),
      z.object({ mode: z.literal('shared'), count: z.number().int().min(1).max(100_000) }),
    ]),
    eventsPerAppend: z.number().int().min(1).max(1000).default(1),
    /** Appends per thread at most. */
    maxAppends: z.number().int().min(1).optional(),
    /** Stop starting appends after this long. */
    durationMs: z.number().int().min(1).max(7 * 24 * 3600_000).optional(),
    /** An append unanswered this long is recorded `info` (default 5 s). */
    opTimeoutMs: z.number().int().min(1).default(5_000),
    /** Pause after a `fail` of an unavailable store, so an outage does not fill the history (default 50 ms). */
    failBackoffMs: z.number().int().min(0).default(50),
    /** At the end, wait this long for appends that timed out to settle (default 10 s), then leave them to `store.close()`. */
    settleTimeoutMs: z.number().int().min(0).default(10_000),
    eventType: z.string().regex(EVENT_TYPE_PATTERN, 'eventType: dotted words, e.g. "chaos.written"').default('chaos.written'),
  })
  .strict()
  .refine((c) => c.maxAppends !== undefined || c.durationMs !== undefined, {
    message: 'writers need a bound: maxAppends or durationMs',
  });
export type WritersConfig = z.input<typeof WritersConfigSchema>;

export interface WritersOptions extends WritersConfig {
  store: EventStore;
  history: HistoryWriter;
  signal?: AbortSignal;
}

export interface WritersSummary {
  ok: number;
  fail: number;
  info: number;
  /** Appends that timed out and had still not settled when the writers returned. */
  unsettled: number;
}

function parseConfig(options: WritersOptions): z.output<typeof WritersConfigSchema> {
  const { store: _store, history: _history, signal: _signal, ...config } = options;
  const r = WritersConfigSchema.safeParse(config);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`chaos writers: ${issue.path.join('.') || '(options)'}: ${issue.message}`);
  }
  return r.data;
}

function abortableDelay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `writers` threads until each made `maxAppends` appends, `durationMs` passed or `signal` aborted;
 * an append in flight when the run stops completes (or times out) and is recorded.
 */
export async function runWriters(options: WritersOptions): Promise<WritersSummary> {
  const config = parseConfig(options);
  const { store, history } = options;
  // A thread that throws (a config error) stops the others before runWriters rejects: none outlives it.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const deadline = config.durationMs === undefined ? Infinity : Date.now() + config.durationMs;
  const summary: WritersSummary = { ok: 0, fail: 0, info: 0, unsettled: 0 };
  /** Appends abandoned at their timeout: owned here until they settle. */
  const abandoned = new Set<Promise<unknown>>();
  const sharedVersions = new Map<string, number | undefined>();

  const streamsOf = (thread: number): string[] => {
    const s = config.streams;
    if (s.mode === 'own') return Array.from({ length: s.perWriter }, (_, k) => `${config.category}-${config.runId}_w${thread}_${k}`);
    return Array.from({ length: s.count }, (_, k) => `${config.category}-${config.runId}_s${k}`);
  };

  const appendWithTimeout = (stream: string, events: Parameters<EventStore['appendToStream']>[1], expected: number): Promise<AppendResult> => {
    const append = store.appendToStream(stream, events, { expectedVersion: expected });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abandoned.add(append);
        const settled = (): void => void abandoned.delete(append);
        append.then(settled, settled);
        reject(TIMEOUT);
      }, config.opTimeoutMs);
    });
    return Promise.race([append, timeout]).finally(() => clearTimeout(timer));
  };

  const thread = async (t: number): Promise<void> => {
    const streams = streamsOf(t);
    // Own streams: this thread is their only writer, so it knows their versions (until an `info`).
    const versions = config.streams.mode === 'own' ? new Map<string, number | undefined>() : sharedVersions;
    let process = t;
    let counter = 0;
    for (let n = 0; config.maxAppends === undefined || n < config.maxAppends; n++) {
      // A store that answers without I/O (memory) would never let timers run: no abort, no nemesis.
      if (n % 64 === 63) await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal.aborted || Date.now() >= deadline) return;
      const stream = streams[(n + t) % streams.length]!;
      let expected = versions.get(stream);
      if (expected === undefined) {
        // Unknown after an `info` (or never written here): the server is the judge. Not an op of the
        // history: a read that fails only delays the next append.
        try {
          expected = await store.streamVersion(stream);
          versions.set(stream, expected);
        } catch {
          await abortableDelay(config.failBackoffMs, signal);
          continue;
        }
      }
      const ids = Array.from({ length: config.eventsPerAppend }, () => `${config.runId}-${process}-${counter++}`);
      const events = ids.map((id) => ({ id, type: config.eventType, data: { process, stream } }));
      history.record({ type: 'invoke', process, f: 'append', stream, ids, expected });
      try {
        const result = await appendWithTimeout(stream, events, expected);
        history.record({
          type: 'ok',
          process,
          f: 'append',
          stream,
          ids,
          expected,
          version: result.streamVersion,
          positions: result.positions,
          ...(result.duplicate ? { duplicate: true } : {}),
        });
        versions.set(stream, result.streamVersion);
        summary.ok++;
      } catch (err) {
        const outcome = classifyAppendError(err);
        history.record({
          type: outcome.type,
          process,
          f: 'append',
          stream,
          ids,
          expected,
          error: outcome.error,
          message: outcome.message,
          ...(outcome.acked === undefined ? {} : { acked: outcome.acked, positions: outcome.positions }),
        });
        summary[outcome.type]++;
        if (err instanceof VersionConflictError) versions.set(stream, err.actual);
        else versions.set(stream, undefined);
        if (outcome.error === 'config' || outcome.error === 'unsupported') throw err;
        if (outcome.type === 'info') {
          // Jepsen: the op may still be running, so this process is retired and the thread goes on as a new one.
          process += config.writers;
          counter = 0;
        }
        if (outcome.error === 'unavailable') await abortableDelay(config.failBackoffMs, signal);
      }
    }
  };

  try {
    const threads = await Promise.allSettled(
      Array.from({ length: config.writers }, (_, t) =>
        thread(t).catch((err: unknown) => {
          stop.abort();
          throw err;
        }),
      ),
    );
    const failed = threads.find((t) => t.status === 'rejected');
    if (failed) throw failed.reason;
  } finally {
    if (abandoned.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...abandoned]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, config.settleTimeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
    summary.unsettled = abandoned.size;
  }
  return summary;
}

// ---------------------------------------------------------------------------------------------------
// Consumer
// ---------------------------------------------------------------------------------------------------

export interface ConsumerOptions {
  store: EventStore;
  history: HistoryWriter;
  subscription: string;
  category: string;
  /** The consumer's process name in the history (e.g. `c0`). */
  process: string;
  /** The handler's side effect; throwing makes the delivery `fail` (and the store redeliver it). */
  effect?: (event: RecordedEvent) => Promise<void> | void;
  subscriptionOptions?: Omit<SubscriptionOptions, 'category'>;
}

export interface ChaosConsumer extends AsyncDisposable {
  readonly subscription: Subscription;
  /** Resolves true once the subscription has nothing unacknowledged, false after `timeoutMs`. */
  drain(options: { timeoutMs: number; pollMs?: number; signal?: AbortSignal }): Promise<boolean>;
  close(): Promise<void>;
}

export async function startConsumer(options: ConsumerOptions): Promise<ChaosConsumer> {
  const { store, history, subscription: name, category, process } = options;
  history.record({ type: 'invoke', process, f: 'subscribe', subscription: name, category });
  let subscription: Subscription;
  try {
    subscription = await store.subscribe(
      name,
      async (event, context) => {
        const op = { process, f: 'handle' as const, subscription: name, id: event.id, stream: event.stream, version: event.version, position: event.position, attempt: context.attempt };
        history.record({ type: 'invoke', ...op });
        try {
          await options.effect?.(event);
        } catch (err) {
          history.record({ type: 'fail', ...op, error: 'handler', message: err instanceof Error ? err.message : String(err) });
          throw err;
        }
        history.record({ type: 'ok', ...op });
      },
      { ...options.subscriptionOptions, category },
    );
  } catch (err) {
    const outcome = classifyAppendError(err);
    history.record({ type: outcome.type, process, f: 'subscribe', subscription: name, category, error: outcome.error, message: outcome.message });
    throw err;
  }
  history.record({ type: 'ok', process, f: 'subscribe', subscription: name, category });
  const consumer: ChaosConsumer = {
    subscription,
    async drain({ timeoutMs, pollMs = 50, signal }) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        try {
          if ((await subscription.lag()) === 0) return true;
        } catch {
          // The store may still be coming back after the faults: keep asking until the deadline.
        }
        if (Date.now() >= until || signal?.aborted) return false;
        await abortableDelay(Math.min(pollMs, until - Date.now()), signal);
      }
    },
    close: () => subscription.close(),
    [Symbol.asyncDispose]: () => subscription.close(),
  };
  return consumer;
}
