/**
 * The chaos history: what every client was told, one JSON object per line, in Jepsen's vocabulary
 * (jepsen.history / knossos ops). Each operation is an `invoke` followed by its completion by the same
 * process: `ok` (it happened), `fail` (it definitely did not happen), `info` (nobody knows: a timeout, a
 * connection lost after the request left). Every op carries `index` (its place in the history), `time`
 * (ns since the run started, monotonic), `process` and `f`; where Jepsen puts the rest in `:value`, the
 * fields are named here so the reader can validate them.
 *
 *   f: 'append'     a writer's appendToStream: stream, ids, expected; ok: version + positions;
 *                   fail/info: error (kind) and message; `acked` = the first n ids stored (partial append)
 *   f: 'subscribe'  a consumer opened its durable subscription on `category`
 *   f: 'handle'     a consumer's handler: invoke = a delivery (id, stream, version, attempt),
 *                   ok = its effect was applied, fail = the handler threw (redelivered), info = unknown
 *   f: 'start' / 'stop'  the nemesis (`process: 'nemesis'`) starting or ending `fault`; type `info`
 *                   on both the invoke and the completion, as Jepsen's nemesis ops are
 *
 * Writers are integer processes; Jepsen retires a process whose op ended `info` (it may still be running)
 * and continues with a new one (`process + concurrency`), so one process never has two ops in flight.
 * Consumers are named processes (`c0`); their `handle` ops carry the event id on the completion too, so
 * handlers that run concurrently inside one consumer pair up without that rule.
 */
import { closeSync, createReadStream, openSync, writeSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../../core/event-store.ts';

export const OP_TYPES = ['invoke', 'ok', 'fail', 'info'] as const;
export type OpType = (typeof OP_TYPES)[number];

/** Why an op failed or is unknown (the `code` of the contract's error classes, plus the harness's own). */
export const ERROR_KINDS = [
  'version_conflict',
  'duplicate_event',
  'unavailable',
  'outcome_unknown',
  'partial_append',
  'timeout',
  'config',
  'unsupported',
  'handler',
  'crash',
  'other',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

const ExpectedVersionSchema = z.union([z.number().int().nonnegative(), z.enum(['no_stream', 'exists', 'any'])]);
const ProcessSchema = z.union([z.number().int().nonnegative(), z.string().min(1).max(64)]);

const base = {
  index: z.number().int().nonnegative(),
  /** ns since the run started. */
  time: z.number().nonnegative(),
  type: z.enum(OP_TYPES),
  process: ProcessSchema,
};

export const AppendOpSchema = z.object({
  ...base,
  process: z.number().int().nonnegative(),
  f: z.literal('append'),
  stream: z.string().min(1),
  ids: z.array(z.string().min(1)).min(1),
  expected: ExpectedVersionSchema,
  /** ok: the stream version after the append. */
  version: z.number().int().positive().optional(),
  /** ok: positions of the events, in order (partial: of the acked ones). */
  positions: z.array(z.number().int().nonnegative()).optional(),
  /** ok: every id was already stored (the store answered a retry from what it had). */
  duplicate: z.boolean().optional(),
  /** fail/info of a partial append: the first `acked` ids are stored and acknowledged. */
  acked: z.number().int().nonnegative().optional(),
  error: z.enum(ERROR_KINDS).optional(),
  message: z.string().optional(),
});

export const SubscribeOpSchema = z.object({
  ...base,
  f: z.literal('subscribe'),
  subscription: z.string().min(1),
  category: z.string().min(1),
  error: z.enum(ERROR_KINDS).optional(),
  message: z.string().optional(),
});

export const HandleOpSchema = z.object({
  ...base,
  f: z.literal('handle'),
  subscription: z.string().min(1),
  id: z.string().min(1),
  stream: z.string().min(1),
  version: z.number().int().positive(),
  position: z.number().int().nonnegative(),
  /** Delivery count: 1 on the first delivery. */
  attempt: z.number().int().positive(),
  error: z.enum(ERROR_KINDS).optional(),
  message: z.string().optional(),
});

export const NemesisOpSchema = z.object({
  ...base,
  process: z.literal('nemesis'),
  type: z.enum(['invoke', 'info']),
  f: z.enum(['start', 'stop']),
  /** The fault's name on the timeline (e.g. `partition-postgres`). */
  fault: z.string().min(1),
  value: z.unknown().optional(),
});

export const HistoryOpSchema = z.discriminatedUnion('f', [AppendOpSchema, SubscribeOpSchema, HandleOpSchema, NemesisOpSchema]);
export type HistoryOp = z.infer<typeof HistoryOpSchema>;
export type AppendOp = z.infer<typeof AppendOpSchema>;
export type HandleOp = z.infer<typeof HandleOpSchema>;
export type SubscribeOp = z.infer<typeof SubscribeOpSchema>;
export type NemesisOp = z.infer<typeof NemesisOpSchema>;

/** An op as a client records it: the writer assigns `index` and `time`. */
export type OpInput = HistoryOp extends infer T ? (T extends HistoryOp ? Omit<T, 'index' | 'time'> : never) : never;

/** ns since the run started; monotonic. Injectable so tests control time. */
export type HistoryClock = () => number;

export function monotonicClock(): HistoryClock {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start);
}

/**
 * ns since `originEpochMs` (e.g. the run's start as `performance.timeOrigin + performance.now()` in the
 * parent): epoch-aligned, so a consumer in a child process writes times on the run's scale.
 */
export function epochClock(originEpochMs: number): HistoryClock {
  return () => Math.max(0, Math.round((performance.timeOrigin + performance.now() - originEpochMs) * 1e6));
}

/** Something that folds ops as they are recorded (the checker's index), so a run need not re-read its file. */
export interface HistorySink {
  add(op: HistoryOp): void;
}

export interface HistoryWriter extends Disposable {
  readonly path: string | undefined;
  /** Stamps `index` and `time`, writes the line, hands the op to the sinks; returns the stamped op. */
  record<T extends OpInput>(op: T): T & { index: number; time: number };
  /** The clock's current time (ns since the run started). */
  now(): number;
  /** Ops recorded so far. */
  readonly count: number;
  /** Writes what is buffered and closes the file. Idempotent. */
  close(): void;
}

export interface HistoryWriterOptions {
  /** JSONL file to create (must not exist). Without it the history only goes to `sinks`. */
  path?: string;
  clock?: HistoryClock;
  sinks?: HistorySink[];
  /**
   * `every-op` writes each line as it is recorded: for a process that may be SIGKILLed (a consumer in a
   * child), whose buffered lines would die with it; the page cache keeps what was written. Default `buffered`.
   */
  flush?: 'buffered' | 'every-op';
}

/**
 * Lines are gathered into 64 KiB and written synchronously: a write to the page cache of that size takes
 * tens of µs, memory stays bounded whatever the run's length, and an op is never lost in an async queue
 * when the process is stopped. `close()` (also by `using`) flushes the rest.
 */
const FLUSH_BYTES = 64 * 1024;

export function createHistoryWriter(options: HistoryWriterOptions = {}): HistoryWriter {
  const clock = options.clock ?? monotonicClock();
  const sinks = options.sinks ?? [];
  const flushBytes = options.flush === 'every-op' ? 0 : FLUSH_BYTES;
  let fd: number | undefined = options.path === undefined ? undefined : openSync(options.path, 'wx');
  let buffer = '';
  let index = 0;
  let lastTime = 0;
  const flush = (): void => {
    if (fd === undefined || buffer.length === 0) return;
    writeSync(fd, buffer);
    buffer = '';
  };
  const writer: HistoryWriter = {
    path: options.path,
    get count() {
      return index;
    },
    now: () => Math.max(lastTime, clock()),
    record(op) {
      // A clock that went backwards would make times disagree with indexes: times never decrease.
      lastTime = Math.max(lastTime, clock());
      const stamped = { index: index++, time: lastTime, ...op };
      if (fd !== undefined) {
        buffer += `${JSON.stringify(stamped)}\n`;
        if (buffer.length >= flushBytes) flush();
      }
      for (const sink of sinks) sink.add(stamped as HistoryOp);
      return stamped;
    },
    close() {
      if (fd === undefined) return;
      try {
        flush();
      } finally {
        closeSync(fd);
        fd = undefined;
      }
    },
    [Symbol.dispose]() {
      writer.close();
    },
  };
  return writer;
}

/**
 * A fault change on the timeline as Jepsen's nemesis records it: an invoke before `action`, a completion
 * of type `info` after it with what the action returned (or its error). The checker takes the completion
 * as the moment the fault started or ended. (Jepsen marks the nemesis invoke `:info` as well; it is
 * `invoke` here so that every op pairs the same way.)
 */
export async function recordNemesis<T>(history: HistoryWriter, f: 'start' | 'stop', fault: string, action: () => Promise<T>): Promise<T> {
  history.record({ type: 'invoke', process: 'nemesis', f, fault });
  try {
    const value = await action();
    history.record({ type: 'info', process: 'nemesis', f, fault, ...(value === undefined ? {} : { value }) });
    return value;
  } catch (err) {
    history.record({ type: 'info', process: 'nemesis', f, fault, value: { error: err instanceof Error ? err.message : String(err) } });
    throw err;
  }
}

/**
 * Reads a history file back, validating every line; a bad line is a `ConfigError` naming file and line.
 * Streams: memory does not grow with the file. Lines are split by hand from 1 MiB chunks: `readline`
 * cost about as much per line as the JSON.parse here.
 */
export async function* readHistory(path: string): AsyncGenerator<HistoryOp> {
  const input = createReadStream(path, { encoding: 'utf8', highWaterMark: 1024 * 1024 });
  let n = 0;
  let rest = '';
  const parse = (line: string): HistoryOp => {
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (err) {
      throw new ConfigError(`history ${path}:${n}: not JSON (${(err as Error).message})`);
    }
    const parsed = HistoryOpSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`history ${path}:${n}: ${issue.path.join('.') || '(op)'}: ${issue.message}`);
    }
    return parsed.data;
  };
  try {
    for await (const chunk of input as AsyncIterable<string>) {
      const text = rest + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        n++;
        const line = text.slice(start, nl);
        start = nl + 1;
        if (line.length > 0) yield parse(line);
      }
      rest = text.slice(start);
    }
    if (rest.length > 0) {
      n++;
      yield parse(rest);
    }
  } finally {
    input.destroy();
  }
}

/**
 * Feeds history files into sinks (e.g. a checker), one after the other; resolves to the number of ops
 * read. Several files: the run's own and its child consumers' (each with its own process names) can be
 * checked together, as the checker pairs ops by process and counts effects by event id.
 */
export async function replayHistory(paths: string | string[], sinks: HistorySink[]): Promise<number> {
  let n = 0;
  for (const path of typeof paths === 'string' ? [paths] : paths) {
    for await (const op of readHistory(path)) {
      for (const sink of sinks) sink.add(op);
      n++;
    }
  }
  return n;
}
