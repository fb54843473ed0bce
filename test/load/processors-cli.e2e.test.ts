/**
 * `eventbench load --processors` as a user runs it: with debt-cases the result JSON carries the
 * `pipeline` block and the table its columns; with a workload that has no processors it is one line,
 * exit 2, before anything starts.
 */
import { describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { eventbench } from './cli.ts';

describe('eventbench load --processors', () => {
  it('debt-cases: the result has a pipeline block; the table shows cases/s', { timeout: 60_000 }, async () => {
    const base = ['load', '--backend', 'memory', '--workload', 'debt-cases', '--processors', '--rate', '50/s', '--duration', '2s', '--drain-timeout', '10s'];
    const json = await eventbench([...base, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const result = loadResultSchema.parse(JSON.parse(json.stdout));
    const p = result.backends[0]!.pipeline!;
    expect(p.casesStarted).toBeGreaterThan(0);
    expect(p.casesCompleted).toBe(p.casesStarted);
    expect(p.casesPerSec).toBeGreaterThan(0);
    expect(p.latency.count).toBeGreaterThan(0);

    const table = await eventbench(base);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/cases\/s\s+case p99 ms/);
    expect(table.stdout).toMatch(/case pipeline \(2 x 32 per processor\): [\d,]+ of [\d,]+ cases completed/);
  });

  it('a workload without processors is refused in one line, exit 2', { timeout: 30_000 }, async () => {
    const r = await eventbench(['load', '--backend', 'memory', '--workload', 'synthetic', '--processors', '--duration', '1s']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--processors .*workload synthetic has none/);
  });
});
