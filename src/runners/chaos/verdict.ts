/**
 * The checker's verdict as data (validated before it is written into a result file): every count with
 * the event ids behind it (capped at `evidenceLimit`, the count is always the full one), the faults with
 * their time to recover, and availability per second. Names follow Jepsen's queue checkers
 * (jepsen.checker/total-queue, jepsen.nats.queue): attempted, acknowledged, read, lost (prefix / middle /
 * postfix), unknown, recovered, unexpected, duplicated.
 */
import { z } from 'zod';

/** A count and (up to the cap) the event ids behind it. */
export const EvidenceSchema = z.object({
  count: z.number().int().nonnegative(),
  ids: z.array(z.string()),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

export const VersionGapSchema = z.object({
  stream: z.string(),
  /** The last version read before the gap (0: the stream did not start at 1). */
  after: z.number().int().nonnegative(),
  /** The next version read. */
  next: z.number().int().positive(),
});

export const OrderViolationSchema = z.object({
  stream: z.string(),
  id: z.string(),
  /** The version read before this event in the stream's read order. */
  previous: z.number().int(),
  version: z.number().int(),
  position: z.number().int().nonnegative(),
});

export const WrongVersionSchema = z.object({
  id: z.string(),
  stream: z.string(),
  /** What the writer was told (from the append's `ok`). */
  acknowledged: z.number().int().positive(),
  read: z.number().int(),
});

export const FaultWindowSchema = z.object({
  fault: z.string(),
  /** ns since the run started. */
  startNs: z.number().nonnegative(),
  stopNs: z.number().nonnegative().nullable(),
  /** The first acknowledged append after the fault ended, ns after its end; null: none came. */
  timeToRecoverNs: z.number().nonnegative().nullable(),
});

export const AvailabilitySchema = z.object({
  /** Start of the bucket, ns since the run started (buckets are `availabilityBucketNs` wide). */
  startNs: z.number().nonnegative(),
  /** Append ops invoked in this second. */
  attempted: z.number().int().nonnegative(),
  /** Append ops acknowledged in this second. */
  ok: z.number().int().nonnegative(),
});

export const VerdictSchema = z.object({
  schemaVersion: z.literal(1),
  /** Event ids the writers tried to append. */
  attempted: z.number().int().nonnegative(),
  /** Event ids acknowledged (`ok`, or the stored prefix of a partial append). */
  acked: z.number().int().nonnegative(),
  /** Events read back (each stored copy counts). */
  read: z.number().int().nonnegative(),
  /** Acknowledged and never read. */
  lost: EvidenceSchema,
  /** Lost, before the writer process's first event that was read (the store "started over"?). */
  lostPrefix: EvidenceSchema,
  /** Lost between two events of the same writer process that were read: the worst case. */
  lostMiddle: EvidenceSchema,
  /** Lost after the writer process's last event that was read (or nothing of it was read). */
  lostPostfix: EvidenceSchema,
  /** Outcome unknown (`info`, or never completed) and not read. */
  unknown: EvidenceSchema,
  /** `info` or `fail` and read anyway. */
  recovered: EvidenceSchema,
  /** The part of `recovered` that was `fail`: the client was told nothing was written, and it was. */
  failedButStored: EvidenceSchema,
  /** Read, never attempted by any writer of this history. */
  unexpected: EvidenceSchema,
  /** One event id stored more than once. */
  duplicates: EvidenceSchema,
  /** One event's effect applied more than once by the consumers (`handle` ok twice, one subscription). */
  duplicateEffects: EvidenceSchema,
  /** Stored in a consumed category and never handled (`handle` ok) by its consumers. */
  unprocessed: EvidenceSchema,
  /** Per stream, versions missing between two read events (or before the first). */
  versionGaps: z.object({ count: z.number().int().nonnegative(), gaps: z.array(VersionGapSchema) }),
  /** Per stream, an event read after one with an equal or higher version. */
  orderViolations: z.object({ count: z.number().int().nonnegative(), violations: z.array(OrderViolationSchema) }),
  /** Read at another version than the append's `ok` said. */
  wrongVersions: z.object({ count: z.number().int().nonnegative(), events: z.array(WrongVersionSchema) }),
  faults: z.array(FaultWindowSchema),
  /** The longest time to recover over the faults that ended (ns), null when none recovered or none ended. */
  maxTimeToRecoverNs: z.number().nonnegative().nullable(),
  /** Faults that ended and were never followed by an acknowledged append. */
  neverRecovered: z.number().int().nonnegative(),
  availabilityBucketNs: z.number().positive(),
  /** Per bucket: append ops invoked and acknowledged (ok / attempted is the availability). */
  availability: z.array(AvailabilitySchema),
  /** Handler deliveries and effects seen. */
  deliveries: z.number().int().nonnegative(),
  effects: z.number().int().nonnegative(),
});
export type Verdict = z.infer<typeof VerdictSchema>;

/** The counts a caller can set expectations on (each an `Evidence` or a `{ count }` in the verdict). */
export const COUNT_NAMES = [
  'lost',
  'lostPrefix',
  'lostMiddle',
  'lostPostfix',
  'unknown',
  'recovered',
  'failedButStored',
  'unexpected',
  'duplicates',
  'duplicateEffects',
  'unprocessed',
  'versionGaps',
  'orderViolations',
  'wrongVersions',
] as const;
export type CountName = (typeof COUNT_NAMES)[number];

export function countOf(verdict: Verdict, name: CountName): number {
  return verdict[name].count;
}

/** Up to `limit` pieces of evidence behind a count (ids, or the gap / violation records). */
export function evidenceOf(verdict: Verdict, name: CountName, limit = 20): unknown[] {
  const v = verdict[name];
  if ('ids' in v) return v.ids.slice(0, limit);
  if ('gaps' in v) return v.gaps.slice(0, limit);
  if ('violations' in v) return v.violations.slice(0, limit);
  return v.events.slice(0, limit);
}
