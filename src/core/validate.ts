/**
 * Input checks every adapter runs before it touches a server, so bad input fails the same way on every
 * backend (a `ConfigError` naming the field) and nothing is half-written.
 */
import {
  CATEGORY_PATTERN,
  ConfigError,
  EVENT_TYPE_PATTERN,
  NewEventSchema,
  STREAM_NAME_PATTERN,
  SUBSCRIPTION_NAME_PATTERN,
  type EventEnvelope,
  type SubscriptionOptions,
  type ExpectedVersion,
  type NewEvent,
  type ReadAllOptions,
  type ReadStreamOptions,
} from './event-store.ts';

export interface StreamName {
  stream: string;
  category: string;
  id: string;
}

export function parseStreamName(stream: string): StreamName {
  if (typeof stream !== 'string' || !STREAM_NAME_PATTERN.test(stream)) {
    throw new ConfigError(
      `invalid stream name ${JSON.stringify(stream)}: use "<category>-<id>" with letters, digits, "_" and "-" (e.g. "case-123")`,
    );
  }
  const dash = stream.indexOf('-');
  return { stream, category: stream.slice(0, dash), id: stream.slice(dash + 1) };
}

export function checkCategory(category: string): string {
  if (typeof category !== 'string' || !CATEGORY_PATTERN.test(category)) {
    throw new ConfigError(`invalid category ${JSON.stringify(category)}: letters, digits and "_", starting with a letter`);
  }
  return category;
}

export function checkSubscriptionName(name: string): string {
  if (typeof name !== 'string' || !SUBSCRIPTION_NAME_PATTERN.test(name)) {
    throw new ConfigError(
      `invalid subscription name ${JSON.stringify(name)}: letters, digits, "_" and "-", at most 64, starting with a letter`,
    );
  }
  return name;
}

export function checkExpectedVersion(expected: ExpectedVersion | undefined): ExpectedVersion {
  if (expected === undefined) return 'any';
  if (expected === 'any' || expected === 'no_stream' || expected === 'exists') return expected;
  if (typeof expected === 'number' && Number.isSafeInteger(expected) && expected >= 0) return expected;
  throw new ConfigError(
    `invalid expectedVersion ${JSON.stringify(expected)}: a version >= 0, "no_stream", "exists" or "any"`,
  );
}

/**
 * The one expected-version rule (as Emmett's `matchesExpectedVersion`): does a stream at `actual` (0 =
 * absent) satisfy `expected`? Every backend judges with it; PostgreSQL's check runs inside its append
 * statement (no extra round trip) and uses this to classify the outcome afterwards.
 */
export function matchesExpectedVersion(expected: ExpectedVersion, actual: number): boolean {
  if (expected === 'any') return true;
  if (expected === 'no_stream') return actual === 0;
  if (expected === 'exists') return actual > 0;
  return actual === expected;
}

/** Read options with defaults applied, checked the same way on every backend before any server is asked. */
export interface ResolvedReadStreamOptions {
  direction: 'forward' | 'backward';
  /** Forward: the first version wanted (>= 1). Backward: the highest version wanted (undefined = the last). */
  fromVersion: number | undefined;
  /** `Infinity` when not given. */
  limit: number;
}

/** A value as a message shows it (JSON.stringify throws on a BigInt and says nothing for a symbol). */
function shown(value: unknown): string {
  return typeof value === 'bigint' ? `${value}n` : (JSON.stringify(value) ?? String(value));
}

function readInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ConfigError(`${what} must be an integer >= 0, got ${shown(value)}`);
  return value;
}

export function checkReadStreamOptions(stream: string, options: ReadStreamOptions | undefined): ResolvedReadStreamOptions {
  if (options === undefined) return { direction: 'forward', fromVersion: undefined, limit: Infinity };
  if (typeof options !== 'object' || options === null) throw new ConfigError(`readStream ${stream}: options must be an object`);
  const direction = options.direction === undefined ? 'forward' : options.direction;
  if (direction !== 'forward' && direction !== 'backward') {
    throw new ConfigError(`readStream ${stream}: direction must be "forward" or "backward", got ${shown(direction)}`);
  }
  return {
    direction,
    fromVersion: options.fromVersion === undefined ? undefined : readInt(options.fromVersion, `readStream ${stream}: fromVersion`),
    limit: options.limit === undefined ? Infinity : readInt(options.limit, `readStream ${stream}: limit`),
  };
}

export interface ResolvedReadAllOptions {
  fromPosition: number;
  /** `Infinity` when not given. */
  limit: number;
  category: string | undefined;
}

export function checkReadAllOptions(options: ReadAllOptions | undefined): ResolvedReadAllOptions {
  if (options === undefined) return { fromPosition: 0, limit: Infinity, category: undefined };
  if (typeof options !== 'object' || options === null) throw new ConfigError('readAll: options must be an object');
  return {
    fromPosition: options.fromPosition === undefined ? 0 : readInt(options.fromPosition, 'readAll: fromPosition'),
    limit: options.limit === undefined ? Infinity : readInt(options.limit, 'readAll: limit'),
    category: options.category === undefined ? undefined : checkCategory(options.category),
  };
}

/** JSON text of a value, or a ConfigError naming the field that cannot be serialised. */
export function toJson(value: unknown, field: string): string {
  // Plain JSON.stringify runs natively and already refuses BigInt and cycles; a replacer callback would
  // cost a JS call per key (profiled: ~8 us of a ~12 us append). What it silently drops or rewrites
  // (functions, symbols, NaN, Infinity) is found by one cheap walk afterwards, so data never changes
  // silently between append and read-back.
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new ConfigError(`${field} is not serialisable as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new ConfigError(`${field} is not serialisable as JSON (undefined)`);
  const problem = findNonJson(value);
  if (problem !== undefined) throw new ConfigError(`${field} is not serialisable as JSON: ${problem}`);
  return text;
}

/** Why a value (known to be acyclic: JSON.stringify accepted it) would not survive a JSON round trip. */
function findNonJson(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const p = findNonJson(value[i]);
        if (p !== undefined) return p;
      }
      return undefined;
    }
    // Objects with toJSON (Date, ...) serialise to what toJSON returns: JSON.stringify checked that.
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return undefined;
    // Own enumerable string keys, what JSON.stringify reads; strings (most values) need no call.
    for (const v of Object.values(value)) {
      if (typeof v === 'string') continue;
      const p = findNonJson(v);
      if (p !== undefined) return p;
    }
    return undefined;
  }
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? undefined : `${value} is not JSON`;
    case 'function':
    case 'symbol':
      return `a ${typeof value} is not JSON`;
    case 'bigint':
      return 'a BigInt is not JSON';
    default:
      return undefined;
  }
}

export interface PreparedEvent {
  readonly envelope: EventEnvelope;
  /** JSON of `data` and `metadata`, computed once (adapters store these). */
  readonly dataJson: string;
  readonly metadataJson: string;
  /** Size of the serialised envelope, for `maxEventBytes`. */
  readonly bytes: number;
}

/** 256: a generous allowance for the envelope's other fields. */
const ENVELOPE_ALLOWANCE = 256;

class Prepared implements PreparedEvent {
  constructor(
    readonly envelope: EventEnvelope,
    readonly dataJson: string,
    readonly metadataJson: string,
  ) {}

  /**
   * Counted when asked: scanning the JSON for its UTF-8 length is a measurable part of an append. A getter,
   * so a spread copy (`{ ...prepared }`) would not have it: copy the fields by name.
   */
  get bytes(): number {
    return Buffer.byteLength(this.dataJson) + Buffer.byteLength(this.metadataJson) + ENVELOPE_ALLOWANCE;
  }
}

/** The current time as ISO text, formatted once per millisecond (appends come thousands a second). */
let isoMs = Number.NaN;
let iso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== isoMs) {
    iso = new Date(ms).toISOString();
    isoMs = ms;
  }
  return iso;
}

/**
 * Validates one append and builds the envelopes with versions `firstVersion`, `firstVersion + 1`, ...
 * Throws ConfigError naming the first bad field; never partially accepts.
 */
export function prepareAppend(
  stream: string,
  events: NewEvent[],
  firstVersion: number,
  maxEventBytes: number,
  now?: () => Date,
): PreparedEvent[] {
  return prepareEvents(parseStreamName(stream), events, firstVersion, maxEventBytes, now);
}

/**
 * `prepareAppend` for a stream name parsed already (an adapter that keeps it per stream parses it once).
 * On every append's path: a plain loop, and the duplicate-id set only for batches.
 */
export function prepareEvents(
  name: StreamName,
  events: NewEvent[],
  firstVersion: number,
  maxEventBytes: number,
  now?: () => Date,
): PreparedEvent[] {
  const { stream } = name;
  if (!Array.isArray(events) || events.length === 0) {
    throw new ConfigError(`append to ${stream}: events must be a non-empty array`);
  }
  const seen = events.length > 1 ? new Set<string>() : undefined;
  const timestamp = now ? now().toISOString() : isoNow();
  const prepared: PreparedEvent[] = [];
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (!isPlainValidEvent(e)) {
      // The schema says what is wrong (and is the judge: an event it accepts passes).
      const parsed = NewEventSchema.safeParse(e);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        const field = issue.path.length ? issue.path.map(String).join('.') : 'event'; // String: a path may hold a Symbol key
        throw new ConfigError(`append to ${stream}: events[${i}].${field}: ${issue.message}`);
      }
    }
    if (seen) {
      if (seen.has(e.id)) throw new ConfigError(`append to ${stream}: event id ${e.id} appears twice in one append`);
      seen.add(e.id);
    }
    const data = e.data === undefined ? null : e.data;
    const metadata = e.metadata ?? {};
    const dataJson = toJson(data, `events[${i}].data`);
    const metadataJson = e.metadata === undefined ? EMPTY_OBJECT_JSON : toJson(metadata, `events[${i}].metadata`);
    // The caller's objects, not copies: adapters store `dataJson` / `metadataJson`; a backend that keeps
    // objects in memory must copy them itself. Two literals rather than a spread of the optional field:
    // a spread in an object literal is a runtime call and a differently shaped object on every append.
    const envelope: EventEnvelope =
      e.causationId === undefined
        ? {
            id: e.id,
            type: e.type,
            timestamp: e.timestamp ?? timestamp,
            correlationId: e.correlationId ?? e.id,
            aggregateId: e.aggregateId ?? name.id,
            aggregateType: e.aggregateType ?? name.category,
            version: firstVersion + i,
            data,
            metadata,
          }
        : {
            id: e.id,
            type: e.type,
            timestamp: e.timestamp ?? timestamp,
            correlationId: e.correlationId ?? e.id,
            causationId: e.causationId,
            aggregateId: e.aggregateId ?? name.id,
            aggregateType: e.aggregateType ?? name.category,
            version: firstVersion + i,
            data,
            metadata,
          };
    const p = new Prepared(envelope, dataJson, metadataJson);
    // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when the event may be over the limit.
    if ((dataJson.length + metadataJson.length) * 3 + ENVELOPE_ALLOWANCE > maxEventBytes && p.bytes > maxEventBytes) {
      throw new ConfigError(
        `append to ${stream}: events[${i}] is ${p.bytes} bytes, over this backend's limit of ${maxEventBytes}`,
      );
    }
    prepared.push(p);
  }
  return prepared;
}

const EMPTY_OBJECT_JSON = '{}';

/** `NewEventSchema`'s rules for its string fields, by hand: the schema is the judge, see isPlainValidEvent. */
function isId(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128;
}

function isOptionalId(v: unknown, max = 128): boolean {
  return v === undefined || (typeof v === 'string' && v.length >= 1 && v.length <= max);
}

/**
 * True only for an event `NewEventSchema` accepts, checked without zod: its parse builds a copy of the
 * event and a result per field, ~400 bytes of garbage per append (profiled with bench/jetstream-append.ts).
 * Anything else (also a valid event with metadata) goes to the schema, which has the last word and the
 * error message; `validate.unit.test.ts` holds the two to the same verdicts.
 */
function isPlainValidEvent(e: NewEvent): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    !Array.isArray(e) &&
    isId(e.id) &&
    'data' in e && // the schema wants the key, even with the value undefined
    typeof e.type === 'string' &&
    EVENT_TYPE_PATTERN.test(e.type) &&
    e.metadata === undefined &&
    (e.timestamp === undefined || (typeof e.timestamp === 'string' && e.timestamp.length >= 1)) &&
    isOptionalId(e.correlationId) &&
    isOptionalId(e.causationId) &&
    isOptionalId(e.aggregateId) &&
    isOptionalId(e.aggregateType, 64)
  );
}

/**
 * The contract's subscription defaults (docs/streams-and-consumers.md §Subscription defaults): `maxDeliver`
 * 5 and `ackWaitMs` 30 s as the billing consumer's, `maxInFlight` 100 as the file-upload consumer's max
 * ack pending.
 */
export const SUBSCRIPTION_DEFAULTS = {
  maxDeliver: 5,
  backoffMs: [100, 500, 2000],
  ackWaitMs: 30_000,
  maxInFlight: 100,
  closeTimeoutMs: 5_000,
} as const;

/** Subscription options with every default applied and every value checked, the same on every backend. */
export interface ResolvedSubscriptionOptions {
  category: string | null;
  from: 'start' | 'end';
  maxDeliver: number;
  backoffMs: number[];
  ackWaitMs: number;
  maxInFlight: number;
  /** Never more than `maxInFlight`. */
  batchSize: number;
  /** Never more than `batchSize`. */
  concurrency: number;
  closeTimeoutMs: number;
  /** Where dead letters go; a subscription-style name, since `readDeadLetters` takes one. */
  deadLetter: string;
}

export function resolveSubscriptionOptions(name: string, options: SubscriptionOptions = {}): ResolvedSubscriptionOptions {
  checkSubscriptionName(name);
  const int = (value: unknown, field: string, min: number): number => {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      throw new ConfigError(`subscribe ${name}: ${field} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const backoffMs = options.backoffMs ?? SUBSCRIPTION_DEFAULTS.backoffMs;
  if (!Array.isArray(backoffMs) || backoffMs.length === 0) {
    throw new ConfigError(`subscribe ${name}: backoffMs must be a non-empty list of delays in ms, got ${JSON.stringify(backoffMs)}`);
  }
  backoffMs.forEach((b, i) => int(b, `backoffMs[${i}]`, 0));
  const from = options.from ?? 'start';
  if (from !== 'start' && from !== 'end') throw new ConfigError(`subscribe ${name}: from must be "start" or "end"`);
  const maxInFlight = int(options.maxInFlight ?? SUBSCRIPTION_DEFAULTS.maxInFlight, 'maxInFlight', 1);
  const batchSize = Math.min(int(options.batchSize ?? Math.min(maxInFlight, 100), 'batchSize', 1), maxInFlight);
  const deadLetter = options.deadLetter ?? name;
  if (typeof deadLetter !== 'string' || !SUBSCRIPTION_NAME_PATTERN.test(deadLetter)) {
    throw new ConfigError(`subscribe ${name}: deadLetter ${JSON.stringify(deadLetter)} must be a name like a subscription's`);
  }
  return {
    category: options.category === undefined ? null : checkCategory(options.category),
    from,
    maxDeliver: int(options.maxDeliver ?? SUBSCRIPTION_DEFAULTS.maxDeliver, 'maxDeliver', 1),
    backoffMs: [...backoffMs],
    ackWaitMs: int(options.ackWaitMs ?? SUBSCRIPTION_DEFAULTS.ackWaitMs, 'ackWaitMs', 1),
    maxInFlight,
    batchSize,
    concurrency: Math.min(int(options.concurrency ?? 1, 'concurrency', 1), batchSize),
    closeTimeoutMs: int(options.closeTimeoutMs ?? SUBSCRIPTION_DEFAULTS.closeTimeoutMs, 'closeTimeoutMs', 0),
    deadLetter,
  };
}
