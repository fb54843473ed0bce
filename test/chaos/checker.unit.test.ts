/**
 * The checker's core on synthetic histories and read-backs (no servers). Each scenario injects one kind
 * of fault into an otherwise clean run and asserts that exactly its count (with the ids behind it)
 * appears and every other count stays zero: remove a detection and its scenario fails; a count that
 * fires without its fault fails the clean run or another scenario. In the spirit of
 * test/contract-suite-not-vacuous.unit.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/core/event-store.ts';
import { createChecker, type Checker } from '../../src/runners/chaos/checker.ts';
import { createHistoryWriter, type HistoryWriter } from '../../src/runners/chaos/history.ts';
import { judge } from '../../src/runners/chaos/judge.ts';
import { COUNT_NAMES, countOf, VerdictSchema, type CountName, type Verdict } from '../../src/runners/chaos/verdict.ts';

interface Run {
  checker: Checker;
  history: HistoryWriter;
  /** Advances the history's clock. */
  tick(ns: number): void;
  /** What the store holds: read back in this order. */
  stored: RecordedEvent[];
  /** Appends `ids` to `stream` as `process` with outcome `outcome`; `landed` decides whether the store has them. */
  append(process: number, stream: string, ids: string[], outcome: 'ok' | 'fail' | 'info' | 'none', landed?: boolean): void;
}

function newRun(): Run {
  let now = 0;
  const checker = createChecker();
  const history = createHistoryWriter({ clock: () => now, sinks: [checker] });
  const versions = new Map<string, number>();
  let position = 0;
  const stored: RecordedEvent[] = [];
  const store = (stream: string, id: string): RecordedEvent => {
    const version = (versions.get(stream) ?? 0) + 1;
    versions.set(stream, version);
    const e = {
      id,
      type: 'chaos.written',
      timestamp: 't',
      correlationId: id,
      aggregateId: stream.slice(stream.indexOf('-') + 1),
      aggregateType: stream.slice(0, stream.indexOf('-')),
      version,
      data: {},
      metadata: {},
      stream,
      position: ++position,
    };
    stored.push(e);
    return e;
  };
  return {
    checker,
    history,
    stored,
    tick: (ns) => void (now += ns),
    append(process, stream, ids, outcome, landed = outcome === 'ok') {
      const expected = versions.get(stream) ?? 0;
      history.record({ type: 'invoke', process, f: 'append', stream, ids, expected });
      now += 1_000;
      const written = landed ? ids.map((id) => store(stream, id)) : [];
      if (outcome === 'ok') {
        history.record({ type: 'ok', process, f: 'append', stream, ids, expected, version: written.at(-1)!.version, positions: written.map((e) => e.position) });
      } else if (outcome !== 'none') {
        history.record({ type: outcome, process, f: 'append', stream, ids, expected, error: outcome === 'fail' ? 'version_conflict' : 'outcome_unknown' });
      }
    },
  };
}

/** A clean run: two writer processes, two streams each, a consumer that handled everything. */
function cleanRun(): Run {
  const run = newRun();
  run.history.record({ type: 'invoke', process: 'c0', f: 'subscribe', subscription: 'sub', category: 'acct' });
  run.history.record({ type: 'ok', process: 'c0', f: 'subscribe', subscription: 'sub', category: 'acct' });
  for (let i = 0; i < 10; i++) {
    run.append(0, `acct-a${i % 2}`, [`p0-${i}`], 'ok');
    run.append(1, `acct-b${i % 2}`, [`p1-${i}`], 'ok');
  }
  return run;
}

function handleAll(run: Run, events: RecordedEvent[] = run.stored): void {
  for (const e of events) {
    const op = { process: 'c0', f: 'handle' as const, subscription: 'sub', id: e.id, stream: e.stream, version: e.version, position: e.position, attempt: 1 };
    run.history.record({ type: 'invoke', ...op });
    run.history.record({ type: 'ok', ...op });
  }
}

async function verdictOf(run: Run, readBack: RecordedEvent[] = run.stored): Promise<Verdict> {
  // Pages of 3, so page boundaries are crossed.
  const pages: RecordedEvent[][] = [];
  for (let i = 0; i < readBack.length; i += 3) pages.push(readBack.slice(i, i + 3));
  return run.checker.check(pages);
}

function expectOnly(verdict: Verdict, expected: Partial<Record<CountName, number>>): void {
  const actual = Object.fromEntries(COUNT_NAMES.map((n) => [n, countOf(verdict, n)]));
  const want = Object.fromEntries(COUNT_NAMES.map((n) => [n, expected[n] ?? 0]));
  expect(actual).toEqual(want);
}

const ids = (v: Verdict, name: 'lost' | 'lostPrefix' | 'lostMiddle' | 'lostPostfix' | 'unknown' | 'recovered' | 'failedButStored' | 'unexpected' | 'duplicates' | 'duplicateEffects' | 'unprocessed'): string[] =>
  [...v[name].ids].sort();

describe('chaos checker core', () => {
  it('a clean run reports zero everywhere', async () => {
    const run = cleanRun();
    handleAll(run);
    const v = await verdictOf(run);
    expectOnly(v, {});
    expect(v).toMatchObject({ attempted: 20, acked: 20, read: 20, deliveries: 20, effects: 20 });
    expect(VerdictSchema.parse(JSON.parse(JSON.stringify(v)))).toEqual(v);
  });

  it('acknowledged events not read are lost, split into prefix / middle / postfix of their writer process', async () => {
    const run = cleanRun();
    handleAll(run);
    // Process 0 wrote p0-0 .. p0-9 in that order; drop its first, a middle and its last.
    const gone = new Set(['p0-0', 'p0-4', 'p0-9']);
    const v = await verdictOf(run, run.stored.filter((e) => !gone.has(e.id)));
    expect(ids(v, 'lost')).toEqual(['p0-0', 'p0-4', 'p0-9']);
    expect(ids(v, 'lostPrefix')).toEqual(['p0-0']);
    expect(ids(v, 'lostMiddle')).toEqual(['p0-4']);
    expect(ids(v, 'lostPostfix')).toEqual(['p0-9']);
    // p0-0 is version 1 of acct-a0 (a gap from 0), p0-4 version 3 of acct-a0; p0-9 is the tip of acct-a1.
    expect(v.versionGaps.gaps).toEqual([
      { stream: 'acct-a0', after: 0, next: 2 },
      { stream: 'acct-a0', after: 2, next: 4 },
    ]);
    expectOnly(v, { lost: 3, lostPrefix: 1, lostMiddle: 1, lostPostfix: 1, versionGaps: 2 });
  });

  it('a writer process of which nothing was read lost a postfix (all of it)', async () => {
    const run = cleanRun();
    const v = await verdictOf(run, run.stored.filter((e) => !e.id.startsWith('p1-')));
    expect(v.lostPostfix.count).toBe(10);
    expect(v.lostPrefix.count + v.lostMiddle.count).toBe(0);
  });

  it('an unknown outcome that landed is recovered, one that did not is unknown; a fail that landed is failedButStored', async () => {
    const run = cleanRun();
    run.append(2, 'acct-c0', ['info-landed'], 'info', true);
    run.append(5, 'acct-c0', ['info-lost'], 'info', false);
    run.append(6, 'acct-c1', ['never-completed'], 'none', false);
    run.append(7, 'acct-c1', ['fail-landed'], 'fail', true);
    run.append(8, 'acct-c1', ['fail-clean'], 'fail', false);
    handleAll(run);
    const v = await verdictOf(run);
    expect(ids(v, 'recovered')).toEqual(['fail-landed', 'info-landed']);
    expect(ids(v, 'unknown')).toEqual(['info-lost', 'never-completed']);
    expect(ids(v, 'failedButStored')).toEqual(['fail-landed']);
    expectOnly(v, { recovered: 2, unknown: 2, failedButStored: 1 });
    expect(v.acked).toBe(20);
  });

  it('a partial append acknowledges its stored prefix', async () => {
    const run = cleanRun();
    run.history.record({ type: 'invoke', process: 3, f: 'append', stream: 'acct-d', ids: ['d1', 'd2', 'd3'], expected: 0 });
    run.history.record({ type: 'info', process: 3, f: 'append', stream: 'acct-d', ids: ['d1', 'd2', 'd3'], expected: 0, error: 'partial_append', acked: 2, positions: [100, 101] });
    handleAll(run);
    // d1 and d2 were acknowledged by the partial append; the store lost d2, d3 never landed.
    const v = await verdictOf(run, [...run.stored, { ...run.stored[0]!, id: 'd1', stream: 'acct-d', version: 1, position: 100 }]);
    expect(ids(v, 'lost')).toEqual(['d2']);
    expect(ids(v, 'unknown')).toEqual(['d3']);
    expect(ids(v, 'unprocessed')).toEqual(['d1']);
    expectOnly(v, { lost: 1, lostPostfix: 1, unknown: 1, unprocessed: 1 });
  });

  it('an event read but never attempted is unexpected', async () => {
    const run = cleanRun();
    handleAll(run);
    const stranger = { ...run.stored[0]!, id: 'stranger', stream: 'acct-x', version: 1, position: 999 };
    const v = await verdictOf(run, [...run.stored, stranger]);
    expect(ids(v, 'unexpected')).toEqual(['stranger']);
    // The consumer never handled it either: it is stored in a consumed category.
    expect(ids(v, 'unprocessed')).toEqual(['stranger']);
    expectOnly(v, { unexpected: 1, unprocessed: 1 });
  });

  it('an event id stored twice is a duplicate (and its second copy breaks the stream order)', async () => {
    const run = cleanRun();
    handleAll(run);
    const copy = { ...run.stored.find((e) => e.id === 'p1-3')!, position: 1000 };
    const v = await verdictOf(run, [...run.stored, copy]);
    expect(ids(v, 'duplicates')).toEqual(['p1-3']);
    expect(v.orderViolations.violations).toEqual([{ stream: 'acct-b1', id: 'p1-3', previous: 5, version: 2, position: 1000 }]);
    expectOnly(v, { duplicates: 1, orderViolations: 1 });
  });

  it('an effect applied twice by the consumers is a duplicate effect', async () => {
    const run = cleanRun();
    handleAll(run);
    handleAll(run, run.stored.filter((e) => e.id === 'p0-7'));
    const v = await verdictOf(run);
    expect(ids(v, 'duplicateEffects')).toEqual(['p0-7']);
    expectOnly(v, { duplicateEffects: 1 });
  });

  it('a delivery whose handler failed is no effect: the event stays unprocessed', async () => {
    const run = cleanRun();
    handleAll(run, run.stored.slice(1));
    const e = run.stored[0]!;
    const op = { process: 'c0', f: 'handle' as const, subscription: 'sub', id: e.id, stream: e.stream, version: e.version, position: e.position, attempt: 1 };
    run.history.record({ type: 'invoke', ...op });
    run.history.record({ type: 'fail', ...op, error: 'handler' });
    const v = await verdictOf(run);
    expect(ids(v, 'unprocessed')).toEqual([e.id]);
    expectOnly(v, { unprocessed: 1 });
    expect(v.deliveries).toBe(20);
    expect(v.effects).toBe(19);
  });

  it('versions read out of order are order violations; a version read other than acknowledged is a wrong version', async () => {
    const run = cleanRun();
    handleAll(run);
    const a0 = run.stored.filter((e) => e.stream === 'acct-a0');
    const swapped = run.stored.map((e) => (e === a0[1] ? a0[2]! : e === a0[2] ? a0[1]! : e));
    const v = await verdictOf(run, swapped);
    expect(v.orderViolations.count).toBe(1);
    expect(v.versionGaps.count).toBe(1);
    expectOnly(v, { orderViolations: 1, versionGaps: 1 });

    const run2 = cleanRun();
    handleAll(run2);
    const relabelled = run2.stored.map((e) => (e.id === 'p0-9' ? { ...e, version: 6 } : e));
    const v2 = await verdictOf(run2, relabelled);
    expect(v2.wrongVersions.events).toEqual([{ id: 'p0-9', stream: 'acct-a1', acknowledged: 5, read: 6 }]);
    expectOnly(v2, { wrongVersions: 1, versionGaps: 1 });
  });

  it('time to recover: the first acknowledged append after each fault ended; availability per bucket', async () => {
    const run = newRun();
    run.append(0, 'acct-a', ['a1'], 'ok');
    run.history.record({ type: 'info', process: 'nemesis', f: 'start', fault: 'partition' });
    run.tick(1e9);
    run.append(0, 'acct-a', ['a2'], 'fail');
    run.tick(1e9);
    run.history.record({ type: 'info', process: 'nemesis', f: 'stop', fault: 'partition' });
    run.tick(250e6);
    run.append(1, 'acct-a', ['a3'], 'ok');
    run.history.record({ type: 'info', process: 'nemesis', f: 'start', fault: 'kill' });
    run.history.record({ type: 'info', process: 'nemesis', f: 'stop', fault: 'kill' });
    const v = await verdictOf(run);
    expect(v.faults.map((f) => [f.fault, f.timeToRecoverNs])).toEqual([
      ['partition', 250e6 + 1_000],
      ['kill', null],
    ]);
    expect(v.maxTimeToRecoverNs).toBe(250e6 + 1_000);
    expect(v.neverRecovered).toBe(1);
    expect(v.availability).toEqual([
      { startNs: 0, attempted: 1, ok: 1 },
      { startNs: 1e9, attempted: 1, ok: 0 },
      { startNs: 2e9, attempted: 1, ok: 1 },
    ]);
    expect(judge(v, { maxTimeToRecoverMs: 1000 }).map((b) => b.message)).toEqual([
      'time to recover: kill never (at most 1000 ms expected)',
    ]);
  });

  it('judge returns each broken expectation with the ids behind it, and nothing for kept ones', async () => {
    const run = cleanRun();
    handleAll(run);
    const v = await verdictOf(run, run.stored.filter((e) => e.id !== 'p1-4'));
    const broken = judge(v, { max: { lost: 0, duplicates: 0, lostMiddle: 0 } });
    expect(broken.map((b) => [b.expectation, b.actual, b.evidence])).toEqual([
      ['lost <= 0', 1, ['p1-4']],
      ['lostMiddle <= 0', 1, ['p1-4']],
    ]);
    expect(judge(v, { max: { lost: 1, duplicates: 0 } })).toEqual([]);
    expect(() => judge(v, { max: { lostt: 0 } } as never)).toThrow();
  });

  it('caps the evidence lists but never the counts', async () => {
    const run = newRun();
    for (let i = 0; i < 50; i++) run.append(0, `acct-s${i}`, [`e${i}`], 'ok');
    const v = await run.checker.check([[]], { evidenceLimit: 7 });
    expect(v.lost.count).toBe(50);
    expect(v.lost.ids).toHaveLength(7);
  });

  it('runs once', async () => {
    const run = cleanRun();
    await verdictOf(run);
    await expect(verdictOf(run)).rejects.toThrow(/once/);
  });
});
