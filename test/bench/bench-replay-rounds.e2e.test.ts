/**
 * `eventbench bench --replay`: each round has a namespace of its own (src/runners/bench/rounds.ts), so the
 * adapter's and the raw driver's replay read the same number of events, their own round's only. Before,
 * every round shared one namespace: the raw round's catch-up read the adapter round's events too (twice
 * the count), and a workload whose stream names and event ids come from the seed alone (debt cases) had
 * every raw append refused as already stored, so the raw round stored 0 events.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-bench-replay-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bench(args: string[]): Promise<LoadResult> {
  const namespace = uniqueName('brp');
  const out = join(dir, namespace);
  const r = await eventbench(['bench', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', namespace, '--out', out, '--warmup', '0s', '--duration', '1s', '--rate', '300/s', '--no-consumer', ...args], 120_000);
  expect(r.stderr).not.toMatch(/failed|FAILED/);
  expect(r.code).toBe(0);
  return loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
}

/** Every round stored what it sent, and read back exactly that: its own events, not another round's. */
function expectOwnEvents(result: LoadResult, rounds: number): void {
  expect(result.backends).toHaveLength(rounds);
  for (const b of result.backends) {
    expect(b.errors.total, b.backend).toBe(0);
    expect(b.totals.events, b.backend).toBeGreaterThan(100);
    expect(b.replay, b.backend).not.toBeNull();
    expect(b.replay!.expected, b.backend).toBe(b.totals.wholeRun.events);
    expect(b.replay!.events, b.backend).toBe(b.replay!.expected);
  }
}

describe('bench --replay reads each round its own events', () => {
  it('catch-up: adapter and raw rounds read the same count on both backends, also in a second run', async () => {
    const result = await bench(['--backends', 'postgres,jetstream', '--replay', 'catch-up', '--runs', '2', '--streams', '100']);
    expectOwnEvents(result, 8);
    for (const backend of ['postgres', 'jetstream']) {
      const counts = result.backends.filter((b) => b.backend === backend || b.baselineOf === backend).map((b) => b.replay!.events);
      // The same fixed rate and duration: each round sends about as many; before, the raw round read twice as many.
      expect(Math.max(...counts) / Math.min(...counts)).toBeLessThan(1.5);
    }
  });

  it('projection-rebuild of debt cases: the raw-postgres round stores and rebuilds its cases (it stored 0 in a shared namespace)', async () => {
    const result = await bench(['--backends', 'postgres', '--workload', 'debt-cases', '--replay', 'projection-rebuild']);
    expectOwnEvents(result, 2);
    const [adapter, raw] = result.backends;
    expect(raw!.baselineOf).toBe('postgres');
    // Same seed, same cases: with a namespace each, both rounds rebuild the same read model.
    expect(raw!.replay!.cases).toBe(adapter!.replay!.cases);
    expect(raw!.replay!.cases).toBeGreaterThan(0);
  });
});
