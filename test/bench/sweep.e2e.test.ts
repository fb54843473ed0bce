/**
 * `eventbench bench --sweep` as a user runs it: one bench per value on both backends, each point's own
 * result in its folder, and one result whose `sweep` block, summary.md tables and terminal tables show
 * every point; bad sweep specs (and a sweep that would take too long) are one line, exit 2, before any
 * server starts.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('eventbench bench --sweep', () => {
  it('runs the bench once per value on both backends and writes one result with the sweep block', async () => {
    const namespace = uniqueName('sweep');
    const out = join(dir, namespace);
    const r = await eventbench(['bench', '--sweep', 'streams=10,100', '--duration', '1s', '--warmup', '0s', '--no-baseline', '--rate', '200/s', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', namespace, '--out', out], 120_000);
    expect(r.stderr).not.toMatch(/FAILED/);
    expect(r.code).toBe(0);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    const sweep = result.sweep!;
    expect(sweep.parameter).toBe('streams');
    expect(sweep.points.map((p) => p.value)).toEqual([10, 100]);
    for (const p of sweep.points) {
      expect(Object.keys(p.stores).sort()).toEqual(['jetstream', 'postgres']);
      for (const s of Object.values(p.stores)) {
        expect(s.eventsPerSec).toBeGreaterThan(0);
        expect(s.p99Ms).toBeGreaterThan(0);
        expect(s.bytesPerEvent).toBeGreaterThan(0);
        expect(s.cpuUsPerEvent).toBeGreaterThan(0);
      }
      // Each point is a whole bench with its own result, streams as swept.
      const own = loadResultSchema.parse(JSON.parse(readFileSync(join(out, p.dir!, 'result.json'), 'utf8')));
      expect(own.scenario.streams).toBe(p.value);
      expect(existsSync(join(out, p.dir!, 'report.html'))).toBe(true);
    }
    // The rest of the result is the last point, with end-to-end p50 / p99 per second in its timeline.
    expect(result.scenario.streams).toBe(100);
    for (const b of result.backends) {
      const seconds = b.timeline.filter((t) => t.e2eP99 !== undefined);
      expect(seconds.length, b.backend).toBeGreaterThan(0);
      for (const t of seconds) expect(t.e2eP99!, b.backend).toBeGreaterThanOrEqual(t.e2eP50!);
    }
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    for (const title of ['Throughput (events/s)', 'Append latency p99 (ms)', 'Storage bytes per event (bytes)', 'CPU per event (servers + load side) (µs)']) {
      expect(summary).toContain(`## Sweep over streams: ${title}`);
      expect(r.stdout).toContain(`Sweep over streams: ${title}:`);
    }
    expect(summary).toMatch(/\| 100 \| [\d,]+ \| [\d,]+ \|/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="chart-sweep-eventsPerSec"');
    expect(r.stdout).toMatch(/^verdict: /m);
  }, 150_000);

  it('sweeps the synthetic workload\'s event size: bytes per event grow with it on both backends', async () => {
    const namespace = uniqueName('sweepsize');
    const out = join(dir, namespace);
    const r = await eventbench(['bench', '--sweep', 'size=256,8192', '--duration', '1s', '--warmup', '0s', '--no-baseline', '--no-consumer', '--rate', '100/s', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', namespace, '--out', out], 120_000);
    expect(r.code, r.stderr).toBe(0);
    const sweep = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'))).sweep!;
    expect(sweep.parameter).toBe('size');
    for (const store of ['postgres', 'jetstream']) {
      const [small, large] = sweep.points.map((p) => p.stores[store]!.bytesPerEvent!);
      expect(large! - small!, store).toBeGreaterThan(7000);
    }
  }, 150_000);

  it.each([
    [['--sweep', 'streams=10'], /--sweep streams: give at least two values/],
    [['--sweep', 'colour=1,2'], /--sweep: unknown parameter "colour"; sweepable: streams, size, writers/],
    [['--sweep', 'streams=10,x'], /--sweep streams value "x"/],
    [['--sweep', 'streams=10,10'], /a value is listed twice/],
    [['--sweep', 'streams=10,100', '--streams', '5'], /--sweep streams and --streams both given/],
    [['--sweep', 'writers=1,4', '--rate', '100/s'], /--writers/],
    [['--sweep', 'size=256,1024', '--workload', 'debt-cases'], /--sweep size needs the synthetic workload/],
    [['--sweep', 'streams=1,2,3,4,5,6,7,8,9,10', '--duration', '10m'], /10 points would take about \d+ min, more than 2h; reduce --duration/],
  ])('refuses %j in one line, exit 2, before any server starts', async (args, message) => {
    const r = await eventbench(['bench', '--pg-url', 'postgres://127.0.0.1:1/none', '--nats-url', 'nats://127.0.0.1:1', ...args], 30_000);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
