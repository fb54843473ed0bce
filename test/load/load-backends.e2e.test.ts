/**
 * `eventbench load --rate 500/s --duration 10s --out d` against both real backends: result.json is valid
 * against its schema and its event count matches what the store holds for the run. Plus the same
 * through two worker threads (each its own connection, rate/2), whose histograms merge exactly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { decodeHistogram } from '../../src/report/histogram.ts';
import { createStore, type BackendName } from '../../src/store/index.ts';
import { SYNTHETIC_CATEGORY } from '../../src/workloads/synthetic.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { eventbench } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-load-backends-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Events of this run (its runId prefixes every stream) as the store reads them back. */
async function countStored(backend: BackendName, namespace: string, runId: string): Promise<number> {
  const store = await createStore(backend, { pgUrl: testPgUrl(), natsUrl: testNatsUrl(), namespace });
  try {
    let count = 0;
    let from = 0;
    for (let page = 0; page < 100; page++) {
      const events = await store.readAll({ category: SYNTHETIC_CATEGORY, fromPosition: from, limit: 10_000 });
      if (events.length === 0) break;
      count += events.filter((e) => e.stream.startsWith(`${SYNTHETIC_CATEGORY}-${runId}`)).length;
      from = events[events.length - 1]!.position;
    }
    // The namespace is the run's own: the store's own count must agree with the read-back.
    expect((await store.storageStats()).events).toBe(count);
    return count;
  } finally {
    await store.close();
  }
}

/** Whether the run's own subscription is still there (deleting it says so); the run should have deleted it. */
async function subscriptionLeftBehind(backend: BackendName, namespace: string, runId: string): Promise<boolean> {
  const store = await createStore(backend, { pgUrl: testPgUrl(), natsUrl: testNatsUrl(), namespace });
  try {
    return await store.deleteSubscription(`load_${runId}`.slice(0, 64), { category: SYNTHETIC_CATEGORY });
  } finally {
    await store.close();
  }
}

async function runLoadCli(backend: BackendName, extra: string[]): Promise<{ result: LoadResult; namespace: string }> {
  const namespace = uniqueName('load');
  const out = join(dir, namespace);
  const r = await eventbench(
    ['load', '--backend', backend, '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', namespace, '--out', out, '--threshold', 'error_rate<1%', ...extra],
    120_000,
  );
  expect(r.stderr).not.toMatch(/FAILED|broken/);
  expect(r.code).toBe(0);
  return { result: loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))), namespace };
}

describe.each(['postgres', 'jetstream'] as const)('eventbench load --backend %s', (backend) => {
  it('writes a valid result.json whose event count matches the store', async () => {
    const { result, namespace } = await runLoadCli(backend, ['--rate', '500/s', '--duration', '10s']);
    const b = result.backends[0]!;
    expect(b.backend).toBe(backend);
    expect(b.errors.total).toBe(0);
    expect(b.totals.unfinished).toBe(0);
    expect(b.totals.wholeRun.events).toBe(5000 - b.totals.wholeRun.dropped);
    expect(await countStored(backend, namespace, result.scenario.runId)).toBe(b.totals.wholeRun.events);
    // Throughput itself is not asserted: the machine is shared, and a slow run is a result, not a bug.
    expect(b.throughput.eventsPerSec).toBeGreaterThan(0);
    expect(b.storage!.bytesPerEvent).toBeGreaterThan(500);
    expect(b.timeline).toHaveLength(10);
    expect(b.endToEnd!.count).toBeGreaterThan(0); // the run's consumer ran...
    expect(await subscriptionLeftBehind(backend, namespace, result.scenario.runId), '...and was deleted at the end').toBe(false);
    expect(result.environment[backend === 'postgres' ? 'postgres' : 'nats']).not.toBeNull();
  }, 150_000);
});

describe('worker threads', () => {
  it('splits the rate over 2 workers and merges their histograms exactly', async () => {
    const { result, namespace } = await runLoadCli('jetstream', ['--rate', '600/s', '--duration', '3s', '--workers', '2']);
    const b = result.backends[0]!;
    expect(b.totals.wholeRun.sent).toBe(1800);
    expect(decodeHistogram(b.histograms.latency).totalCount).toBe(b.totals.appends);
    expect(b.latency.count).toBe(b.totals.appends);
    expect(await countStored('jetstream', namespace, result.scenario.runId)).toBe(b.totals.wholeRun.events);
  }, 150_000);
});

describe('eventbench bench', () => {
  it('runs the same workload and seed against each backend and prints them side by side', async () => {
    const out = join(dir, 'bench');
    const r = await eventbench(
      ['bench', '--backends', 'memory,jetstream', '--duration', '2s', '--warmup', '0s', '--rate', '300/s', '--nats-url', testNatsUrl(), '--namespace', uniqueName('bench'), '--out', out, '--no-baseline'],
      120_000,
    );
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^(memory|jetstream)\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/)[0])).toEqual(['memory', 'jetstream']);
    expect(r.stdout).toMatch(/capabilities that differ:/);
    expect(r.stdout).toMatch(/globalOrder: memory=true, jetstream=false/);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    expect(result.scenario).toMatchObject({ command: 'bench', backends: ['memory', 'jetstream'], rate: 300 });
    expect(result.backends.map((b) => [b.backend, b.totals.sent])).toEqual([
      ['memory', 600],
      ['jetstream', 600],
    ]);
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/# eventbench bench: memory vs jetstream/);
  }, 150_000);
});
