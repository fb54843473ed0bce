/**
 * Three `eventbench load` processes on one machine share one `--start-at` instant and one `--run-id`
 * (as a Kubernetes indexed Job's pods do) against one JetStream, told apart by `--generator-id`; then
 * `eventbench merge` adds their results. Checks: the merged counts equal what the store holds (and every
 * generator wrote its own streams and event ids), the merged p99 is the p99 of the three histograms
 * added up (exact, not averaged), and the generators started within 50 ms of each other.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { decodeHistogram, newHistogram, summarize } from '../../src/report/histogram.ts';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { readResultFile } from '../../src/report/result-file.ts';
import { createStore } from '../../src/store/index.ts';
import { SYNTHETIC_CATEGORY } from '../../src/workloads/synthetic.ts';
import { eventbench } from '../load/cli.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-merge-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const readResult = (out: string): LoadResult => loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));

/** Every event of the namespace: stream and id. */
async function readBack(namespace: string): Promise<{ stream: string; id: string }[]> {
  const store = await createStore('jetstream', { natsUrl: testNatsUrl(), namespace });
  try {
    const all: { stream: string; id: string }[] = [];
    let from = 0;
    for (let page = 0; page < 100; page++) {
      const events = await store.readAll({ category: SYNTHETIC_CATEGORY, fromPosition: from, limit: 10_000 });
      if (events.length === 0) break;
      all.push(...events.map((e) => ({ stream: e.stream, id: e.id })));
      from = events[events.length - 1]!.position;
    }
    expect((await store.storageStats()).events).toBe(all.length);
    return all;
  } finally {
    await store.close();
  }
}

it('three generators started at one instant merge exactly into one result', { timeout: 90_000 }, async () => {
  const namespace = uniqueName('gens');
  const runId = 'shared';
  // An absolute instant, as N machines are given one. Three processes starting at once on two busy cores
  // (the full test run) have taken up to 15 s to parse their flags here: the margin is above that.
  const startAt = new Date(Date.now() + 20_000).toISOString();
  const outs = [0, 1, 2].map((i) => join(dir, `g${i}`));
  const runs = await Promise.all(
    outs.map((out, i) =>
      eventbench(
        ['load', '--backend', 'jetstream', '--nats-url', testNatsUrl(), '--namespace', namespace, '--run-id', runId, '--generator-id', String(i), '--start-at', startAt,
          '--rate', '150/s', '--duration', '3s', '--warmup', '1s', '--streams', '50', '--no-consumer', '--threshold', 'error_rate<1%', '--out', out],
        60_000,
      ),
    ),
  );
  for (const r of runs) expect(r.code, r.stderr).toBe(0);
  const results = outs.map(readResult);
  for (const [i, r] of results.entries()) {
    expect(r.generator).toMatchObject({ id: i, startAt });
    expect(r.scenario.runId).toBe(`${runId}g${i}`);
    expect(r.backends[0]!.start!.scheduleStartMs).toBe(Date.parse(startAt));
  }

  const mergedDir = join(dir, 'merged');
  const merge = await eventbench(['merge', ...outs.map((o) => join(o, 'result.json')), '--out', mergedDir]);
  expect(merge.code, merge.stderr).toBe(0);
  const merged = readResult(mergedDir);
  const b = merged.backends[0]!;
  // It reads back like any result (report, compare) and says it is merged and the total rate.
  expect(readResultFile(join(mergedDir, 'result.json')).result.backends).toHaveLength(1);
  expect(readFileSync(join(mergedDir, 'report.html'), 'utf8')).toContain('<html');
  expect(merged.merged!.generators.map((g) => g.id)).toEqual([0, 1, 2]);
  expect(merged.scenario.rate).toBe(450);
  expect(b.throughput.targetPerSec).toBeCloseTo(450, 0);

  // Counts: the merged whole-run events are what the store holds, and each generator's are its own streams.
  const stored = await readBack(namespace);
  expect(b.totals.wholeRun.events).toBe(stored.length);
  expect(b.totals.wholeRun.events).toBe(results.reduce((a, r) => a + r.backends[0]!.totals.wholeRun.events, 0));
  for (const [i, r] of results.entries()) {
    expect(stored.filter((e) => e.stream.startsWith(`${SYNTHETIC_CATEGORY}-${runId}g${i}_`)).length).toBe(r.backends[0]!.totals.wholeRun.events);
  }
  expect(new Set(stored.map((e) => e.id)).size).toBe(stored.length);

  // Exact: the merged p99 is the p99 of one histogram holding all three generators' values.
  const all = newHistogram();
  for (const r of results) all.add(decodeHistogram(r.backends[0]!.histograms.latency));
  expect(b.latency.count).toBe(all.totalCount);
  expect(b.latency.p99).toBe(summarize(all).p99);
  expect(b.latency.max).toBe(summarize(all).max);

  // Synchronised: the first sends of the three left within 50 ms of each other.
  const firstSends = results.map((r) => r.backends[0]!.start!.firstSendMs!);
  const spread = Math.max(...firstSends) - Math.min(...firstSends);
  expect(spread).toBeLessThan(50);
  expect(merged.merged!.startSpreadMs).toBeCloseTo(spread, 2);
});
