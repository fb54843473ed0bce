/**
 * The report commands as a user runs them: `load --out d` leaves d/report.html; `eventbench report
 * d/result.json --out x.html` renders it; `compare` exits 1 on an injected 30 % throughput drop, 0 on a
 * 3 % change, 2 on results of another scenario; a missing or invalid file is one line, exit 2.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-report-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string): string => new URL(`../fixtures/results/${name}`, import.meta.url).pathname;

/** One line on stderr, no stack trace. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

/** The fixture with postgres' throughput scaled, written to the temp dir. */
function scaled(factor: number, edit?: (r: { scenario: Record<string, unknown> }) => void): string {
  const r = JSON.parse(readFileSync(fixture('bench-ramp-v2.json'), 'utf8')) as { backends: { backend: string; throughput: { eventsPerSec: number } }[]; scenario: Record<string, unknown> };
  r.backends.find((b) => b.backend === 'postgres')!.throughput.eventsPerSec *= factor;
  edit?.(r);
  const file = join(dir, `scaled-${factor}-${edit ? 'edited' : 'plain'}.json`);
  writeFileSync(file, JSON.stringify(r));
  return file;
}

describe('eventbench load --out and eventbench report', () => {
  it('load --out d leaves d/report.html; report d/result.json --out x.html renders it again', async () => {
    const out = join(dir, 'run');
    const run = await eventbench(['load', '--backend', 'memory', '--rate', '200/s', '--duration', '1s', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(join(out, 'report.html'));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toContain('<title>eventbench load: memory</title>');
    expect(html).toContain('id="chart-throughput"');

    const x = join(dir, 'x.html');
    const report = await eventbench(['report', join(out, 'result.json'), '--out', x]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout.trim()).toBe(x);
    expect(readFileSync(x, 'utf8')).toContain('id="chart-percentiles"');
  });

  it('writes report.html next to the result file by default, also for schema version 1; renders a chaos verdict.json', async () => {
    const v1 = join(dir, 'old');
    rmSync(v1, { recursive: true, force: true });
    mkdirSync(v1);
    writeFileSync(join(v1, 'result.json'), readFileSync(fixture('load-max-v1.json')));
    const chaos = join(dir, 'chaos.html');
    // The run's directory stands for the result file in it.
    const [r, c] = await Promise.all([eventbench(['report', v1]), eventbench(['report', fixture('chaos-verdict.json'), '--out', chaos])]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(v1, 'report.html'), 'utf8')).toContain('Read from a file of schema version 1');
    expect(c.code, c.stderr).toBe(0);
    expect(readFileSync(chaos, 'utf8')).toContain('<title>eventbench chaos: server_pause on postgres</title>');
  });

  it('a missing file, a file that is not a result, and an --out that is a directory are one line, exit 2, nothing written', async () => {
    const notJson = join(dir, 'text.json');
    writeFileSync(notJson, 'hello');
    const [missing, invalid, toDir] = await Promise.all([
      eventbench(['report', join(dir, 'nope.json'), '--out', join(dir, 'nope.html')]),
      eventbench(['report', notJson, '--out', join(dir, 'text.html')]),
      eventbench(['report', fixture('load-max-v2.json'), '--out', dir]),
    ]);
    expect(missing.code).toBe(2);
    expect(oneLine(missing.stderr)).toMatch(/nope\.json: no such file; give the result\.json/);
    expect(invalid.code).toBe(2);
    expect(oneLine(invalid.stderr)).toMatch(/text\.json: not JSON/);
    expect(toDir.code).toBe(2);
    expect(oneLine(toDir.stderr)).toMatch(/is a directory; give a file name/);
    expect(existsSync(join(dir, 'nope.html')) || existsSync(join(dir, 'text.html'))).toBe(false);
  });
});

describe('eventbench compare', () => {
  it('exits 1 on a 30 % throughput drop, 0 on a 3 % change', async () => {
    const [drop, noise] = await Promise.all([
      eventbench(['compare', fixture('bench-ramp-v2.json'), scaled(0.7), '--fail-on', '10%']),
      eventbench(['compare', fixture('bench-ramp-v2.json'), scaled(0.97), '--fail-on', '10%', '--json']),
    ]);
    expect(drop.code, drop.stderr).toBe(1);
    expect(drop.stdout).toMatch(/\| postgres \| throughput \(events\/s\) \| 300 \| 210 \| -30\.0% \| ±5\.0% \| \*\*REGRESSION\*\* \|/);
    expect(drop.stdout).toMatch(/1 regression\(s\) beyond noise and --fail-on 10%/);
    expect(noise.code, noise.stderr).toBe(0);
    const json = JSON.parse(noise.stdout) as { regressions: unknown[]; rows: { backend: string; metric: string; verdict: string; delta: number }[] };
    expect(json.regressions).toEqual([]);
    expect(json.rows.find((r) => r.backend === 'postgres' && r.metric === 'throughput')).toMatchObject({ verdict: 'within noise', delta: expect.closeTo(-0.03, 5) });
  });

  it('refuses results of another scenario (exit 2, one line) and names what differs', async () => {
    const other = scaled(1, (r) => (r.scenario.workload = 'debt-cases'));
    const [r, bad] = await Promise.all([
      eventbench(['compare', fixture('bench-ramp-v2.json'), other]),
      eventbench(['compare', fixture('bench-ramp-v2.json'), fixture('bench-ramp-v2.json'), '--fail-on', 'ten']),
    ]);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/are not comparable: workload synthetic vs debt-cases; compare runs of the same scenario/);
    expect(bad.code).toBe(2);
    expect(oneLine(bad.stderr)).toMatch(/--fail-on "ten": expected a percentage such as 10%/);
  });
});
