/**
 * A run ends on time whatever the load: the schedule stops at its deadline (plus a one-second grace
 * for sends already due), what was not sent by then is counted dropped, and the run lasts at most
 * warm-up + duration + drain timeout + a few seconds. Before: memory at 1,000,000/s for 1 s ran 13 s.
 * Time is taken from the run's first progress line (the CLI's own start-up is not the run's).
 */
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { startEventbench } from './cli.ts';

async function timedRun(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; runMs: number }> {
  const run = startEventbench(args, 120_000);
  await run.waitForStderr(/eventbench: \[\w+\]/, 60_000);
  const from = Date.now();
  const r = await run.done;
  return { ...r, runMs: Date.now() - from };
}

describe('a run ends on time', () => {
  it('memory at 1,000,000/s for 1 s: the rest is dropped, the run ends within its bound', async () => {
    const r = await timedRun(['load', '--backend', 'memory', '--rate', '1000000/s', '--duration', '1s', '--drain-timeout', '2s', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const b = loadResultSchema.parse(JSON.parse(r.stdout)).backends[0]!;
    // Every scheduled append is accounted for: sent or dropped, none silently skipped.
    expect(b.totals.sent + b.dropped.count).toBe(1_000_000);
    expect(b.dropped.count).toBeGreaterThan(0);
    // 1 s of schedule + 1 s grace + 2 s drain, plus 3 s for starting and stopping on a loaded machine.
    expect(r.runMs).toBeLessThan(1000 + 1000 + 2000 + 3000);
  }, 150_000);

  it('more workers than cores: one warning line, and the run still ends', async () => {
    const workers = availableParallelism() + 1;
    const r = await timedRun(['load', '--backend', 'jetstream', '--nats-url', testNatsUrl(), '--namespace', uniqueName('tb'), '--workers', String(workers), '--rate', '100/s', '--duration', '1s', '--drain-timeout', '2s']);
    expect(r.code, r.stderr).toBe(0);
    const warnings = r.stderr.split('\n').filter((l) => /--workers \d+ on \d+ cores/.test(l));
    expect(warnings).toEqual([`eventbench: --workers ${workers} on ${availableParallelism()} cores: the workers share the cores with each other (and local servers); fewer workers may reach a higher rate`]);
  }, 150_000);

  it('Ctrl-C works while the generator is far behind at the rate limit (dropping in bursts)', async () => {
    const run = startEventbench(['load', '--backend', 'memory', '--rate', '1000000/s', '--duration', '60s', '--max-in-flight', '10', '--no-consumer'], 120_000);
    await run.waitForStderr(/eventbench: \[memory\] measure/, 60_000);
    const at = Date.now();
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code, r.stderr).toBe(130);
    expect(Date.now() - at).toBeLessThan(5000);
    expect(r.stdout).toMatch(/interrupted \(partial results\)/);
  }, 150_000);
});
