/**
 * `eventbench load` as a user runs it (memory backend, no servers): thresholds decide the exit code as
 * in k6 (0 when they hold, 99 when one breaks, and the summary says which and by how much), bad input
 * is one clear line and exit 2, results are written and valid, and Ctrl-C still writes partial results.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { eventbench, startEventbench } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-load-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = ['load', '--backend', 'memory', '--rate', '500/sec', '--duration', '2s'];

describe('eventbench load: thresholds and exit codes', () => {
  it('exits 0 when every threshold holds, and writes a valid result.json + summary.md', async () => {
    const out = join(dir, 'pass');
    const r = await eventbench([...base, '--warmup', '500ms', '--threshold', 'p99<5s', '--threshold', 'error_rate<0.1%', '--threshold', 'rate>=450/s', '--out', out]);
    expect(r.stderr).not.toMatch(/broken/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/PASS p99<5s/);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    expect(result.schemaVersion).toBe(3);
    expect(result.scenario).toMatchObject({ executor: 'constant', rate: 500, durationMs: 2000, warmupMs: 500, workload: 'synthetic' });
    const b = result.backends[0]!;
    expect(b.throughput.eventsPerSec).toBeGreaterThan(450);
    expect(b.totals.wholeRun.events).toBe(1250);
    expect(b.timeline).toHaveLength(2);
    expect(b.capabilities).toHaveProperty('atomicMultiAppend');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/\| memory +\|/);
  }, 60_000);

  it('exits 99 when a threshold breaks and says which and by how much', async () => {
    const r = await eventbench([...base, '--threshold', 'p99<0.001ms', '--threshold', 'error_rate<1%', '--json']);
    expect(r.code).toBe(99);
    expect(r.stderr).toMatch(/threshold\(s\) broken: p99<0\.001ms: [\d.]+ms, over by [\d.]+ms/);
    const result = loadResultSchema.parse(JSON.parse(r.stdout));
    expect(result.thresholdsPassed).toBe(false);
    const [p99, errors] = result.backends[0]!.thresholds;
    expect(p99).toMatchObject({ threshold: 'p99<0.001ms', passed: false });
    expect(p99!.by).toBeGreaterThan(0);
    expect(errors).toMatchObject({ passed: true });
  }, 60_000);
});

describe.concurrent('eventbench load: bad input is one line and exit 2', () => {
  const cases: [string, string[], RegExp][] = [
    ['a rate that is not one', ['--rate', 'abc'], /--rate "abc" is not a rate/],
    ['a negative duration', ['--duration', '-1'], /--duration "-1"/],
    ['an unknown workload', ['--workload', 'nope'], /unknown workload "nope": available: .*synthetic/],
    ['an unknown backend', ['--backend', 'nope'], /unknown backend "nope": available: .*memory/],
    ['a malformed threshold', ['--threshold', 'p99<<5'], /--threshold "p99<<5"/],
    ['an unknown threshold metric', ['--threshold', 'latency<5ms'], /unknown metric "latency"/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const r = await eventbench(['load', '--backend', 'memory', '--duration', '1s', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }, 30_000);
  }
});

describe('eventbench load: Ctrl-C', () => {
  it('stops cleanly on SIGINT and still writes the partial results', async () => {
    const out = join(dir, 'interrupted');
    const run = startEventbench(['load', '--backend', 'memory', '--rate', '200/s', '--duration', '60s', '--out', out]);
    // Non-TTY progress: a log line every few seconds.
    await run.waitForStderr(/eventbench: \[memory\] measure/, 30_000);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
    const b = result.backends[0]!;
    expect(b.interrupted).toBe(true);
    expect(b.measuredSeconds).toBeLessThan(30);
    expect(b.totals.appends).toBeGreaterThan(0);
    expect(result.notes.join(' ')).toMatch(/interrupted/);
  }, 60_000);
});
