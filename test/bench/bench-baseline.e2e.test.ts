/**
 * `eventbench bench` as a user runs it: every backend's raw-driver baseline runs in the same invocation
 * and the efficiency is computed from those rounds; `--runs` repeats the comparison and reports median
 * and spread; `--durability matched` changes PostgreSQL's session setting (read back from the server)
 * and the result says what an ack means; `default` leaves it as the server has it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-bench-baseline-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bench(args: string[]): Promise<{ result: LoadResult; stdout: string }> {
  const namespace = uniqueName('bench');
  const out = join(dir, namespace);
  const r = await eventbench(['bench', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', namespace, '--out', out, '--warmup', '0s', '--rate', '200/s', ...args], 120_000);
  expect(r.stderr).not.toMatch(/failed|FAILED/);
  expect(r.code).toBe(0);
  return { result: loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))), stdout: r.stdout };
}

const round4 = (v: number): number => Math.round(v * 10_000) / 10_000;

describe('eventbench bench with raw-driver baselines', () => {
  it('runs raw-postgres and raw-jetstream in the same invocation; efficiency is adapter against those rounds', async () => {
    const { result, stdout } = await bench(['--backends', 'postgres,jetstream', '--duration', '2s']);
    expect(result.backends.map((b) => [b.backend, b.baselineOf])).toEqual([
      ['postgres', null],
      ['raw-postgres', 'postgres'],
      ['jetstream', null],
      ['raw-jetstream', 'jetstream'],
    ]);
    const block = result.bench!;
    expect(block.baseline).toBe(true);
    for (const backend of ['postgres', 'jetstream']) {
      const adapter = result.backends.find((b) => b.backend === backend)!;
      const raw = result.backends.find((b) => b.baselineOf === backend)!;
      // The raw round measured real appends through the same recorder (its histogram, its events).
      expect(raw.latency.count).toBeGreaterThan(100);
      expect(raw.totals.events).toBeGreaterThan(100);
      expect(raw.errors.total).toBe(0);
      const e = block.efficiency.find((x) => x.backend === backend)!;
      expect(e).toMatchObject({ baseline: raw.backend, of: 'latency' });
      // At a fixed rate the headline is raw p99 / adapter p99, from exactly these two rounds.
      expect(e.value.median).toBeCloseTo(round4(raw.latency.p99 / adapter.latency.p99), 3);
      expect(e.throughput!.median).toBeCloseTo(round4(adapter.throughput.eventsPerSec / raw.throughput.eventsPerSec), 3);
    }
    expect(stdout).toMatch(/efficiency \(raw p99 \/ p99\)/);
    expect(stdout).toMatch(/postgres: [\d.]+ = raw-postgres p99 \/ postgres p99 at 200\/s/);
    // Default durability: the session setting read back is the server's own.
    expect(block.durability.profile).toBe('default');
    const pg = block.durability.sides.find((s) => s.backend === 'postgres')!;
    expect(pg.settings.synchronous_commit).toBe('on');
    expect(pg.ack).toMatch(/synchronous_commit=on.*flushed to disk/);
    expect(block.durability.sides.find((s) => s.backend === 'jetstream')!.ack).toMatch(/nats-server 2\.9/);
    expect(stdout).toMatch(/ack on postgres: synchronous_commit=on/);
  });

  it('--runs 3 --durability matched: median and spread per metric, synchronous_commit=off read back on both PostgreSQL sides', async () => {
    const { result, stdout } = await bench(['--backends', 'postgres', '--duration', '1s', '--runs', '3', '--durability', 'matched', '--no-consumer']);
    expect(result.backends.map((b) => `${b.run}:${b.backend}`)).toEqual(['1:postgres', '1:raw-postgres', '2:postgres', '2:raw-postgres', '3:postgres', '3:raw-postgres']);
    const block = result.bench!;
    expect(block.runs).toBe(3);
    const throughput = block.metrics.find((m) => m.metric === 'throughput')!;
    const values = result.backends.filter((b) => b.backend === 'postgres').map((b) => b.throughput.eventsPerSec);
    expect(throughput.stores.postgres!.values).toEqual(values);
    expect(throughput.stores.postgres!.min).toBe(Math.min(...values));
    expect(throughput.stores.postgres!.max).toBe(Math.max(...values));
    expect(block.efficiency[0]!.value.values).toHaveLength(3);
    expect(stdout).toMatch(/side by side, median \[min-max\] of 3 runs/);
    expect(stdout).toMatch(/throughput \(events\/s\)\s+\d+ \[\d+-\d+\]/);
    expect(block.durability.profile).toBe('matched');
    for (const side of block.durability.sides) {
      expect(side.settings.synchronous_commit).toBe('off');
      expect(side.ack).toMatch(/synchronous_commit=off.*in the server's memory/);
    }
    expect(block.durability.changes.join(' ')).toMatch(/synchronous_commit=off/);
    expect(stdout).toMatch(/durability profile matched/);
  });

  it('--no-baseline runs the backends alone; --latency-at follows a max search with a round at that fraction of its rate', async () => {
    const { result, stdout } = await bench(['--backends', 'postgres', '--executor', 'max', '--slo', 'p99<5s', '--step-duration', '1s', '--duration', '2s', '--latency-at', '0.5', '--no-baseline', '--no-consumer']);
    expect(result.backends.map((b) => b.backend)).toEqual(['postgres', 'postgres']);
    expect(result.bench!.efficiency).toEqual([]);
    expect(stdout).toMatch(/efficiency: not measured \(--no-baseline\)/);
    const [max, follow] = result.backends;
    expect(follow!.latencyAt).toEqual({ fraction: 0.5, rate: Math.round(max!.maxSearch!.sustainableRate! * 0.5) });
    expect(follow!.throughput.targetPerSec).toBe(follow!.latencyAt!.rate);
    expect(result.bench!.latencyAt[0]!.stores.postgres!.p99.median).toBeCloseTo(follow!.latency.p99, 0);
    expect(stdout).toMatch(/p99 \(ms\) at 50% of max/);
  });

  it('refuses a bad --runs or --durability before anything starts (exit 2, one line)', async () => {
    for (const args of [['--runs', '0'], ['--durability', 'strict']]) {
      const r = await eventbench(['bench', '--out', join(dir, uniqueName('bad')), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(args[0] === '--runs' ? /--runs "0"/ : /--durability "strict"/);
    }
  });
});
