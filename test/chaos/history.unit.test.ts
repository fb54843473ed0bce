/**
 * The history file (JSONL, Jepsen's op vocabulary) and the memory-backed clients that write it: written
 * while the run goes (bounded buffer), read back validated, replayed into a checker with the same verdict
 * as the live one; writers classify outcomes exactly, stop at their bounds and on abort.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  DuplicateEventError,
  OutcomeUnknownError,
  PartialAppendError,
  StoreUnavailableError,
  VersionConflictError,
  type EventStore,
} from '../../src/core/event-store.ts';
import { createChecker } from '../../src/runners/chaos/checker.ts';
import { TIMEOUT, classifyAppendError, runWriters, startConsumer } from '../../src/runners/chaos/clients.ts';
import { createHistoryWriter, epochClock, readHistory, recordNemesis, replayHistory, type HistoryOp } from '../../src/runners/chaos/history.ts';
import { readBack } from '../../src/runners/chaos/read-back.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { uniqueName } from '../support/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-history-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collect(path: string): Promise<HistoryOp[]> {
  const ops: HistoryOp[] = [];
  for await (const op of readHistory(path)) ops.push(op);
  return ops;
}

describe('history file', () => {
  it('writes JSONL while the run goes, stamps index and time, and reads back what was written', async () => {
    const path = join(dir, 'a.jsonl');
    let now = 5;
    const history = createHistoryWriter({ path, clock: () => now });
    const invoke = history.record({ type: 'invoke', process: 0, f: 'append', stream: 'acct-1', ids: ['e1'], expected: 0 });
    now = 3; // a clock that steps back never makes times decrease
    const ok = history.record({ type: 'ok', process: 0, f: 'append', stream: 'acct-1', ids: ['e1'], expected: 0, version: 1, positions: [7] });
    history.record({ type: 'info', process: 'nemesis', f: 'start', fault: 'partition', value: { target: 'postgres' } });
    expect([invoke.index, invoke.time, ok.index, ok.time]).toEqual([0, 5, 1, 5]);
    // Bounded memory: lines go to the file in 64 KiB pieces before close().
    for (let i = 0; i < 2000; i++) history.record({ type: 'invoke', process: 1, f: 'append', stream: 'acct-2', ids: [`x${i}`], expected: 'any' });
    expect(statSync(path).size).toBeGreaterThan(64 * 1024);
    history.close();
    history.close();
    const ops = await collect(path);
    expect(ops).toHaveLength(2003);
    expect(ops[0]).toEqual({ index: 0, time: 5, type: 'invoke', process: 0, f: 'append', stream: 'acct-1', ids: ['e1'], expected: 0 });
    expect(ops[2]).toEqual({ index: 2, time: 5, type: 'info', process: 'nemesis', f: 'start', fault: 'partition', value: { target: 'postgres' } });
    expect(() => createHistoryWriter({ path })).toThrow(/EEXIST/);
  });

  it('`every-op` puts each line in the file at once (a SIGKILLed child loses nothing recorded); files replay together', async () => {
    const path = join(dir, 'child.jsonl');
    const origin = performance.timeOrigin + performance.now() - 5; // the run started 5 ms ago
    const child = createHistoryWriter({ path, flush: 'every-op', clock: epochClock(origin) });
    const op = child.record({ type: 'ok', process: 'c1', f: 'handle', subscription: 's', id: 'e1', stream: 'acct-1', version: 1, position: 1, attempt: 1 });
    expect(op.time).toBeGreaterThanOrEqual(5e6);
    expect(readFileSync(path, 'utf8')).toBe(`${JSON.stringify(op)}\n`);
    child.close();
    const parent = join(dir, 'parent.jsonl');
    const history = createHistoryWriter({ path: parent });
    history.record({ type: 'ok', process: 'c0', f: 'handle', subscription: 's', id: 'e1', stream: 'acct-1', version: 1, position: 1, attempt: 1 });
    history.close();
    const checker = createChecker();
    expect(await replayHistory([parent, path], [checker])).toBe(2);
    expect((await checker.check([])).duplicateEffects.ids).toEqual(['e1']);
  });

  it('records a nemesis change as an invoke and an info completion, which the checker takes as the fault window', async () => {
    let now = 0;
    const checker = createChecker();
    const ops: HistoryOp[] = [];
    const history = createHistoryWriter({ clock: () => now, sinks: [checker, { add: (op) => void ops.push(op) }] });
    await recordNemesis(history, 'start', 'partition', async () => {
      now = 10;
      return { cut: 'postgres' };
    });
    now = 500;
    await expect(recordNemesis(history, 'stop', 'partition', () => Promise.reject(new Error('heal failed')))).rejects.toThrow('heal failed');
    expect(ops.map((o) => [o.type, o.f, o.time, 'value' in o ? o.value : undefined])).toEqual([
      ['invoke', 'start', 0, undefined],
      ['info', 'start', 10, { cut: 'postgres' }],
      ['invoke', 'stop', 500, undefined],
      ['info', 'stop', 500, { error: 'heal failed' }],
    ]);
    const v = await checker.check([]);
    expect(v.faults).toEqual([{ fault: 'partition', startNs: 10, stopNs: 500, timeToRecoverNs: null }]);
  });

  it('refuses a bad line naming file, line and field', async () => {
    const path = join(dir, 'bad.jsonl');
    writeFileSync(
      path,
      `${JSON.stringify({ index: 0, time: 0, type: 'invoke', process: 0, f: 'append', stream: 's-1', ids: ['a'], expected: 0 })}\n` +
        `${JSON.stringify({ index: 1, time: 0, type: 'maybe', process: 0, f: 'append', stream: 's-1', ids: ['a'], expected: 0 })}\n`,
    );
    const err = await collect(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/bad\.jsonl:2: type: /);
    writeFileSync(path, '{"index": 0,\n');
    await expect(collect(path)).rejects.toThrow(/bad\.jsonl:1: not JSON/);
  });
});

describe('append outcomes', () => {
  it('fail only where nothing was written, info wherever the write may have happened', () => {
    const cases: [unknown, string, string][] = [
      [new VersionConflictError('s-1', 3, 4), 'fail', 'version_conflict'],
      [new DuplicateEventError('s-1', ['a']), 'fail', 'duplicate_event'],
      [new StoreUnavailableError('refused'), 'fail', 'unavailable'],
      [new ConfigError('bad'), 'fail', 'config'],
      [new OutcomeUnknownError('s-1', 'connection lost'), 'info', 'outcome_unknown'],
      [TIMEOUT, 'info', 'timeout'],
      [new Error('ECONNRESET'), 'info', 'other'],
      ['a string', 'info', 'other'],
    ];
    for (const [err, type, error] of cases) expect(classifyAppendError(err), String(err)).toMatchObject({ type, error });
    const partialUnknown = new PartialAppendError('s-1', 2, 5, [10, 11], { cause: new OutcomeUnknownError('s-1', 'timeout') });
    expect(classifyAppendError(partialUnknown)).toMatchObject({ type: 'info', error: 'partial_append', acked: 2, positions: [10, 11] });
    const partialConflict = new PartialAppendError('s-1', 1, 3, [10], { cause: new VersionConflictError('s-1', 5, 6) });
    expect(classifyAppendError(partialConflict)).toMatchObject({ type: 'fail', acked: 1 });
  });
});

describe('clients on the memory store', () => {
  it('writers and a consumer produce a history whose replay gives the live verdict: all acked, nothing lost', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('hist') });
    const path = join(dir, 'run.jsonl');
    const live = createChecker();
    const history = createHistoryWriter({ path, sinks: [live] });
    try {
      const consumer = await startConsumer({ store, history, subscription: 'chaos', category: 'acct', process: 'c0' });
      const summary = await runWriters({ store, history, writers: 3, category: 'acct', runId: 'r1', streams: { mode: 'shared', count: 2 }, maxAppends: 20 });
      expect(summary.ok + summary.fail + summary.info).toBe(60);
      expect(summary.fail).toBeGreaterThan(0); // three threads racing on two streams: version conflicts
      expect(await consumer.drain({ timeoutMs: 10_000 })).toBe(true);
      await consumer.close();
      history.close();
      const v = await live.check(readBack(store, { categories: live.categories(), pageSize: 7 }));
      expect(v.acked).toBe(summary.ok);
      expect(v.read).toBe(summary.ok);
      for (const n of ['lost', 'unknown', 'recovered', 'unexpected', 'duplicates', 'unprocessed', 'duplicateEffects'] as const) expect(v[n].count, n).toBe(0);
      expect(v.versionGaps.count + v.orderViolations.count + v.wrongVersions.count).toBe(0);

      const replayed = createChecker();
      expect(await replayHistory(path, [replayed])).toBe(history.count);
      expect(await replayed.check(readBack(store, { categories: replayed.categories() }))).toEqual(v);
      const lines = readFileSync(path, 'utf8').trim().split('\n');
      expect(lines.filter((l) => l.includes('"f":"append"') && l.includes('"type":"fail"')).length).toBe(summary.fail);
    } finally {
      await store.close();
    }
  });

  it('stop at maxAppends, at durationMs and on abort; a hung append becomes info and the process is retired', async () => {
    const inner = await createMemoryStore({ namespace: uniqueName('hist') });
    let hang = false;
    const releases: (() => void)[] = [];
    // The memory store behind a switch that holds appends: the request "left" and no answer comes.
    const store: EventStore = Object.create(inner, {
      appendToStream: {
        value: async (...args: Parameters<EventStore['appendToStream']>) => {
          if (hang) await new Promise<void>((resolve) => releases.push(resolve));
          return inner.appendToStream(...args);
        },
      },
    });
    const checker = createChecker();
    let infos = 0;
    const history = createHistoryWriter({ sinks: [checker, { add: (op) => void (op.type === 'info' && infos++) }] });
    try {
      const bounded = await runWriters({ store, history, writers: 2, category: 'acct', runId: 'r2', streams: { mode: 'own', perWriter: 1 }, maxAppends: 5 });
      expect(bounded).toEqual({ ok: 10, fail: 0, info: 0, unsettled: 0 });

      const timed = await runWriters({ store, history, writers: 1, category: 'acct', runId: 'r3', streams: { mode: 'own', perWriter: 1 }, durationMs: 100 });
      expect(timed.ok).toBeGreaterThan(0);

      const controller = new AbortController();
      const aborted = runWriters({ store, history, writers: 1, category: 'acct', runId: 'r4', streams: { mode: 'own', perWriter: 1 }, maxAppends: 1e9, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      expect((await aborted).ok).toBeGreaterThan(0);

      hang = true;
      // Two streams, so the second append does not depend on the first landing.
      const hung = runWriters({ store, history, writers: 1, category: 'acct', runId: 'r5', streams: { mode: 'own', perWriter: 2 }, maxAppends: 2, opTimeoutMs: 20, settleTimeoutMs: 5_000 });
      // Let both appends time out, then the "network" delivers them: they land after the client gave up.
      await expect.poll(() => infos, { timeout: 5_000 }).toBe(2);
      expect(releases).toHaveLength(2);
      hang = false;
      for (const release of releases) release();
      expect(await hung).toEqual({ ok: 0, fail: 0, info: 2, unsettled: 0 });
      history.close();
      const v = await checker.check(readBack(store, { categories: checker.categories() }));
      // Both timed-out appends landed: recovered, not lost; Jepsen retired process 0 after the first.
      expect([...v.recovered.ids].sort()).toEqual(['r5-0-0', 'r5-1-0']);
      expect(v.lost.count + v.unknown.count).toBe(0);
    } finally {
      await inner.close();
    }
  });

  it('a thread refused by the store (config error) stops every thread before runWriters rejects', async () => {
    const inner = await createMemoryStore({ namespace: uniqueName('hist') });
    let appends = 0;
    const store: EventStore = Object.create(inner, {
      appendToStream: {
        value: async (...args: Parameters<EventStore['appendToStream']>) => {
          appends++;
          if (args[0].includes('_w1_') && appends > 50) throw new ConfigError('event too big (test)');
          return inner.appendToStream(...args);
        },
      },
    });
    const checker = createChecker();
    const history = createHistoryWriter({ sinks: [checker] });
    try {
      await expect(runWriters({ store, history, writers: 3, category: 'acct', runId: 'r7', streams: { mode: 'own', perWriter: 1 }, durationMs: 60_000 })).rejects.toThrow(
        /too big/,
      );
      const after = appends;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(appends).toBe(after);
      const v = await checker.check([]);
      expect(v.unknown.count).toBe(0); // every invoke was completed
    } finally {
      await inner.close();
    }
  });

  it('refuses unbounded or malformed writer options before appending anything', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('hist') });
    const history = createHistoryWriter();
    try {
      const base = { store, history, writers: 1, category: 'acct', runId: 'r6', streams: { mode: 'own' as const, perWriter: 1 } };
      await expect(runWriters(base)).rejects.toThrow(/maxAppends or durationMs/);
      await expect(runWriters({ ...base, runId: 'bad id', maxAppends: 1 })).rejects.toThrow(/runId/);
      await expect(runWriters({ ...base, writers: 0, maxAppends: 1 })).rejects.toThrow(ConfigError);
      expect(history.count).toBe(0);
    } finally {
      await store.close();
    }
  });
});
