/**
 * `npm run bench:jetstream` / `bench:postgres` as a user runs them, with short flags against the test
 * servers: each ends by itself with exit 0 (the old jetstream script once exited 13, an unsettled top-level
 * await, without writing anything) and writes `<stamp>.json` / `.md` whose ratios come from the
 * `eventbench bench` results beside them. The numbers are not judged (a shared machine).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { testNatsUrl, testPgUrl } from '../support/servers.ts';
import { eventbench } from '../load/cli.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'eventbench-append-wrappers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Summary {
  backend: string;
  stamp: string;
  parts: { name: string; target: number; exitCode: number; dir: string; adapterPerSec: number; rawPerSec: number; ratio: { median: number; values: number[] } }[];
}

async function wrapper(script: string, args: string[]): Promise<{ summary: Summary; md: string; out: string }> {
  const out = join(dir, script.replace(/\W/g, '_'));
  // execFile rejects on a non-zero exit code: resolving is the exit-0 check.
  await run(process.execPath, ['--import', 'tsx', script, '--out', out, '--duration', '1s', '--warmup', '0s', '--runs', '1', ...args], {
    timeout: 110_000,
    env: { ...process.env, PG_URL: '', NATS_URL: '' },
  });
  const files = readdirSync(out).sort();
  expect(files).toHaveLength(3); // <stamp>/, <stamp>.json, <stamp>.md
  const json = files.find((f) => f.endsWith('.json'))!;
  const summary = JSON.parse(readFileSync(join(out, json), 'utf8')) as Summary;
  return { summary, md: readFileSync(join(out, json.replace(/\.json$/, '.md')), 'utf8'), out };
}

function expectPart(out: string, summary: Summary, name: string, target: number): void {
  const part = summary.parts.find((p) => p.name === name)!;
  expect(part, name).toBeDefined();
  expect(part.exitCode).toBe(0);
  expect(part.target).toBe(target);
  expect(part.adapterPerSec).toBeGreaterThan(0);
  expect(part.rawPerSec).toBeGreaterThan(0);
  expect(part.ratio.values).toHaveLength(1);
  // The ratio is the bench's own, from the rounds in the part's result.json.
  const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, part.dir, 'result.json'), 'utf8')));
  expect(result.backends.map((b) => b.baselineOf ?? b.backend)).toEqual([summary.backend, summary.backend]);
  const e = result.bench!.efficiency[0]!;
  expect(part.ratio.median).toBe(name === 'replay' ? e.replay!.median : e.throughput!.median);
  expect(result.environment).toBeTruthy();
}

describe('the append benchmarks over eventbench bench', () => {
  it('bench:jetstream ends by itself and writes the single-thread and replay ratios', { timeout: 120_000 }, async () => {
    const { summary, md, out } = await wrapper('bench/jetstream-append.ts', ['--nats-url', testNatsUrl(), '--writers', '16', '--events', '3000', '--seed-rate', '1000', '--skip', 'workers', '--skip', 'batch']);
    expect(summary.backend).toBe('jetstream');
    expect(summary.parts.map((p) => p.name)).toEqual(['single', 'replay']);
    expectPart(out, summary, 'single', 0.9);
    expectPart(out, summary, 'replay', 0.8);
    // The replay read back what its round loaded, 3,000 events in 3 s at 1,000/s, no more.
    const replay = loadResultSchema.parse(JSON.parse(readFileSync(join(out, summary.parts[1]!.dir, 'result.json'), 'utf8')));
    for (const b of replay.backends) expect(b.replay!.events).toBe(b.totals.wholeRun.events);
    expect(md).toMatch(/\| single: OCC append, 1 thread, 16 writers, 10000 subjects \| [\d,]+\/s \| [\d,]+\/s \| [\d.]+x \[[\d.]+-[\d.]+\] \| >= 0.9 \| (meets|below) \|/);
    expect(md).toMatch(/\| replay: .* \| >= 0.8 \|/);
  });

  it('bench:postgres writes the 100-event append ratio, each append carrying 100 events', { timeout: 120_000 }, async () => {
    const { summary, out } = await wrapper('bench/postgres-append.ts', ['--pg-url', testPgUrl(), '--skip', 'single', '--skip', 'replay']);
    expect(summary.parts.map((p) => p.name)).toEqual(['batch']);
    expectPart(out, summary, 'batch', 0.8);
    const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, summary.parts[0]!.dir, 'result.json'), 'utf8')));
    for (const b of result.backends) expect(b.totals.events).toBe(b.totals.appends * 100);
    expect(result.notes.join(' ')).toMatch(/--batch 100: each append carried 100 events of one stream/);
  });

  it('--batch is refused for a workload that decides its own appends, and out of range (exit 2, one line)', async () => {
    for (const [args, message] of [
      [['--workload', 'debt-cases', '--batch', '10'], /--batch sets the synthetic workload's events per append; debt-cases decides its own/],
      [['--batch', '1001'], /--batch "1001" must be a whole number from 1 to 1,000/],
    ] as const) {
      const r = await eventbench(['bench', '--out', join(dir, 'refused'), ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
