/**
 * The Jepsen-style checker: folds a history (as it is recorded, or replayed from its file) into a compact
 * index, then compares it with everything read back from the store after healing and draining, and
 * returns the verdict (verdict.ts) with the event ids behind every count.
 *
 * Built for 1,000,000 acknowledged events and more: one `Map` from event id to a slot number, and per
 * slot a few typed-array cells (state, writer process, invoke index, acknowledged version, stream,
 * read count, effects per subscription). Nothing of an op or a read event is kept beyond them; read-back
 * pages are dropped as soon as they are counted.
 */
import type { RecordedEvent } from '../../core/event-store.ts';
import type { HistoryOp, HistorySink } from './history.ts';
import { VerdictSchema, type Evidence, type Verdict } from './verdict.ts';

/** Outcome of an id, ordered by how much is known of it landing: a later op only raises it. */
const FAIL = 1;
const INVOKED = 2;
const INFO = 3;
const OK = 4;

export interface CheckOptions {
  /** Ids (gaps, violations) listed per count at most (default 100); the counts are always complete. */
  evidenceLimit?: number;
}

export interface CheckerOptions {
  /** Bucket width of `availability`, ns (default 1 s). */
  availabilityBucketNs?: number;
}

export interface Checker extends HistorySink {
  /** Categories the history wrote to or consumed from: what `check` must read back. */
  categories(): string[];
  /** Subscriptions the consumers opened, with their category. */
  subscriptions(): { subscription: string; category: string }[];
  /**
   * Compares the history with the read-back (pages of events, each category read in its order) and
   * returns the verdict. Once per checker: reading back updates the index.
   */
  check(readBack: AsyncIterable<RecordedEvent[]> | Iterable<RecordedEvent[]>, options?: CheckOptions): Promise<Verdict>;
}

interface FaultWindow {
  fault: string;
  startNs: number;
  stopNs: number | null;
  timeToRecoverNs: number | null;
}

function categoryOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash < 0 ? stream : stream.slice(0, dash);
}

class EvidenceList {
  count = 0;
  readonly ids: string[] = [];
  constructor(private readonly limit: number) {}
  add(id: string): void {
    this.count++;
    if (this.ids.length < this.limit) this.ids.push(id);
  }
  toJSON(): Evidence {
    return { count: this.count, ids: this.ids };
  }
}

export function createChecker(checkerOptions: CheckerOptions = {}): Checker {
  const slotOf = new Map<string, number>();
  let ids: string[] = [];
  let size = 0;
  let capacity = 1024;
  let state: Uint8Array = new Uint8Array(capacity);
  let proc: Int32Array = new Int32Array(capacity);
  let seq: Float64Array = new Float64Array(capacity);
  let ackVersion: Float64Array = new Float64Array(capacity);
  let streamOf: Int32Array = new Int32Array(capacity);
  let reads: Uint8Array = new Uint8Array(capacity);
  const streams: string[] = [];
  const streamIndex = new Map<string, number>();
  /** Per subscription: its category and effects per slot. */
  const subs = new Map<string, { category: string; effects: Uint8Array }>();
  /** Ops of writer processes between invoke and completion: the slots of their ids. */
  const pending = new Map<number, number[]>();
  const appendCategories = new Set<string>();
  const faults: FaultWindow[] = [];
  const openFaults = new Map<string, number>();
  /** Faults that ended with no acknowledged append since. */
  let awaitingRecovery: number[] = [];
  let attempted = 0;
  let deliveries = 0;
  let effects = 0;
  const bucketNs = checkerOptions.availabilityBucketNs ?? 1e9;
  const attemptedAt: number[] = [];
  const okAt: number[] = [];
  let checked = false;

  const grow = (): void => {
    capacity *= 2;
    const g8 = (a: Uint8Array): Uint8Array => {
      const b = new Uint8Array(capacity);
      b.set(a);
      return b;
    };
    const g32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(capacity);
      b.set(a);
      return b;
    };
    const g64 = (a: Float64Array): Float64Array => {
      const b = new Float64Array(capacity);
      b.set(a);
      return b;
    };
    state = g8(state);
    proc = g32(proc);
    seq = g64(seq);
    ackVersion = g64(ackVersion);
    streamOf = g32(streamOf);
    reads = g8(reads);
    for (const sub of subs.values()) sub.effects = g8(sub.effects);
  };

  const streamNumber = (stream: string): number => {
    let n = streamIndex.get(stream);
    if (n === undefined) {
      n = streams.length;
      streams.push(stream);
      streamIndex.set(stream, n);
    }
    return n;
  };

  const slot = (id: string): number => {
    let s = slotOf.get(id);
    if (s === undefined) {
      if (size === capacity) grow();
      s = size++;
      slotOf.set(id, s);
      ids.push(id);
      proc[s] = -1;
      streamOf[s] = -1;
    }
    return s;
  };

  const bump = (buckets: number[], timeNs: number): void => {
    const b = Math.floor(timeNs / bucketNs);
    while (buckets.length <= b) buckets.push(0);
    buckets[b]!++;
  };

  const settle = (slots: number[], from: number, outcome: number): void => {
    for (let i = from; i < slots.length; i++) {
      const s = slots[i]!;
      const old = state[s]!;
      state[s] = old === INVOKED ? outcome : Math.max(old, outcome);
    }
  };

  const addAppend = (op: Extract<HistoryOp, { f: 'append' }>): void => {
    if (op.type === 'invoke') {
      const st = streamNumber(op.stream);
      appendCategories.add(categoryOf(op.stream));
      const slots: number[] = [];
      for (const id of op.ids) {
        const s = slot(id);
        if (state[s] === 0) {
          state[s] = INVOKED;
          proc[s] = op.process;
          seq[s] = op.index;
          streamOf[s] = st;
        }
        slots.push(s);
        attempted++;
      }
      pending.set(op.process, slots);
      bump(attemptedAt, op.time);
      return;
    }
    const slots = pending.get(op.process);
    if (!slots) return; // a completion without its invoke (a truncated file's head): nothing to pair it with
    pending.delete(op.process);
    if (op.type === 'ok') {
      settle(slots, 0, OK);
      if (op.version !== undefined) {
        for (let i = 0; i < slots.length; i++) ackVersion[slots[i]!] = op.version - (slots.length - 1 - i);
      }
      bump(okAt, op.time);
      for (const w of awaitingRecovery) faults[w]!.timeToRecoverNs = op.time - faults[w]!.stopNs!;
      awaitingRecovery = [];
      return;
    }
    const acked = Math.min(op.acked ?? 0, slots.length);
    if (acked > 0) settle(slots.slice(0, acked), 0, OK);
    settle(slots, acked, op.type === 'fail' ? FAIL : INFO);
  };

  const subscriptionOf = (name: string, category: string): { category: string; effects: Uint8Array } => {
    let sub = subs.get(name);
    if (!sub) {
      sub = { category, effects: new Uint8Array(capacity) };
      subs.set(name, sub);
    }
    return sub;
  };

  const checker: Checker = {
    add(op: HistoryOp): void {
      if (checked) throw new Error('checker: history added after check()');
      switch (op.f) {
        case 'append':
          addAppend(op);
          return;
        case 'subscribe':
          if (op.type === 'ok') subscriptionOf(op.subscription, op.category);
          return;
        case 'handle': {
          if (op.type === 'invoke') {
            deliveries++;
            return;
          }
          if (op.type !== 'ok') return;
          effects++;
          const s = slot(op.id);
          if (streamOf[s] === -1) streamOf[s] = streamNumber(op.stream);
          const sub = subscriptionOf(op.subscription, categoryOf(op.stream));
          if (sub.effects[s]! < 255) sub.effects[s]!++;
          return;
        }
        case 'start':
        case 'stop': {
          // Jepsen's nemesis records `info` on both sides of a fault change: the completion is when it took effect.
          if (op.type !== 'info') return;
          if (op.f === 'start') {
            openFaults.set(op.fault, faults.length);
            faults.push({ fault: op.fault, startNs: op.time, stopNs: null, timeToRecoverNs: null });
          } else {
            const w = openFaults.get(op.fault);
            if (w === undefined) return;
            openFaults.delete(op.fault);
            faults[w]!.stopNs = op.time;
            awaitingRecovery.push(w);
          }
          return;
        }
      }
    },

    categories() {
      const all = new Set(appendCategories);
      for (const sub of subs.values()) all.add(sub.category);
      return [...all].sort();
    },

    subscriptions() {
      return [...subs].map(([subscription, s]) => ({ subscription, category: s.category }));
    },

    async check(readBack, options = {}) {
      if (checked) throw new Error('checker: check() runs once per checker');
      checked = true;
      const limit = options.evidenceLimit ?? 100;
      const list = (): EvidenceList => new EvidenceList(limit);
      // An op still in flight at the end never completed: Jepsen counts it `info`.
      for (const slots of pending.values()) settle(slots, 0, INFO);
      pending.clear();

      const duplicates = list();
      const gaps: Verdict['versionGaps']['gaps'] = [];
      let gapCount = 0;
      const violations: Verdict['orderViolations']['violations'] = [];
      let violationCount = 0;
      const wrong: Verdict['wrongVersions']['events'] = [];
      let wrongCount = 0;
      const lastVersion = new Map<string, number>();
      let read = 0;

      for await (const page of readBack) {
        for (let i = 0; i < page.length; i++) {
          const e = page[i]!;
          read++;
          const s = slot(e.id);
          if (streamOf[s] === -1) streamOf[s] = streamNumber(e.stream);
          const r = reads[s]!;
          if (r < 255) reads[s] = r + 1;
          if (r === 1) duplicates.add(e.id);
          const last = lastVersion.get(e.stream) ?? 0;
          if (e.version === last + 1) {
            lastVersion.set(e.stream, e.version);
          } else if (e.version > last + 1) {
            if (gaps.length < limit) gaps.push({ stream: e.stream, after: last, next: e.version });
            gapCount++;
            lastVersion.set(e.stream, e.version);
          } else {
            if (violations.length < limit) violations.push({ stream: e.stream, id: e.id, previous: last, version: e.version, position: e.position });
            violationCount++;
          }
          const acked = ackVersion[s]!;
          if (acked !== 0 && acked !== e.version) {
            if (wrong.length < limit) wrong.push({ id: e.id, stream: e.stream, acknowledged: acked, read: e.version });
            wrongCount++;
          }
        }
      }

      // Each writer process's first and last event read, by invoke order (Jepsen's lost-breakout).
      const firstRead = new Map<number, number>();
      const lastRead = new Map<number, number>();
      for (let s = 0; s < size; s++) {
        if (reads[s] === 0 || proc[s]! < 0) continue;
        const p = proc[s]!;
        const q = seq[s]!;
        if (q < (firstRead.get(p) ?? Infinity)) firstRead.set(p, q);
        if (q > (lastRead.get(p) ?? -Infinity)) lastRead.set(p, q);
      }

      const lost = list();
      const lostPrefix = list();
      const lostMiddle = list();
      const lostPostfix = list();
      const unknown = list();
      const recovered = list();
      const failedButStored = list();
      const unexpected = list();
      const duplicateEffects = list();
      const unprocessed = list();
      let acked = 0;
      const consumed = [...subs.values()].map((sub) => ({
        effects: sub.effects,
        streams: new Uint8Array(streams.map((name) => (categoryOf(name) === sub.category ? 1 : 0))),
      }));

      for (let s = 0; s < size; s++) {
        const st = state[s]!;
        const id = ids[s]!;
        const wasRead = reads[s]! > 0;
        if (st === OK) {
          acked++;
          if (!wasRead) {
            lost.add(id);
            const p = proc[s]!;
            const q = seq[s]!;
            if (q < (firstRead.get(p) ?? -Infinity)) lostPrefix.add(id);
            else if (q < (lastRead.get(p) ?? -Infinity)) lostMiddle.add(id);
            else lostPostfix.add(id);
          }
        } else if (st === INFO || st === INVOKED) {
          if (wasRead) recovered.add(id);
          else unknown.add(id);
        } else if (st === FAIL) {
          if (wasRead) {
            recovered.add(id);
            failedButStored.add(id);
          }
        } else if (wasRead) {
          unexpected.add(id);
        }
        for (const c of consumed) {
          const n = c.effects[s]!;
          if (n > 1) duplicateEffects.add(id);
          else if (n === 0 && wasRead && streamOf[s]! >= 0 && c.streams[streamOf[s]!] === 1) unprocessed.add(id);
        }
      }

      const availability: Verdict['availability'] = [];
      const buckets = Math.max(attemptedAt.length, okAt.length);
      for (let b = 0; b < buckets; b++) availability.push({ startNs: b * bucketNs, attempted: attemptedAt[b] ?? 0, ok: okAt[b] ?? 0 });
      const recoveredTimes = faults.flatMap((f) => (f.timeToRecoverNs === null ? [] : [f.timeToRecoverNs]));

      const verdict: Verdict = {
        schemaVersion: 1,
        attempted,
        acked,
        read,
        lost: lost.toJSON(),
        lostPrefix: lostPrefix.toJSON(),
        lostMiddle: lostMiddle.toJSON(),
        lostPostfix: lostPostfix.toJSON(),
        unknown: unknown.toJSON(),
        recovered: recovered.toJSON(),
        failedButStored: failedButStored.toJSON(),
        unexpected: unexpected.toJSON(),
        duplicates: duplicates.toJSON(),
        duplicateEffects: duplicateEffects.toJSON(),
        unprocessed: unprocessed.toJSON(),
        versionGaps: { count: gapCount, gaps },
        orderViolations: { count: violationCount, violations },
        wrongVersions: { count: wrongCount, events: wrong },
        faults: faults.map((f) => ({ ...f })),
        maxTimeToRecoverNs: recoveredTimes.length === 0 ? null : Math.max(...recoveredTimes),
        neverRecovered: faults.filter((f) => f.stopNs !== null && f.timeToRecoverNs === null).length,
        availabilityBucketNs: bucketNs,
        availability,
        deliveries,
        effects,
      };
      // Release the index: a checker is used once.
      slotOf.clear();
      ids = [];
      return VerdictSchema.parse(verdict);
    },
  };
  return checker;
}
