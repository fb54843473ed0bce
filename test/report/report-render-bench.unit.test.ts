/**
 * bench/report-render.ts runs on a small input and writes its well-formed result (never a timing check:
 * the lead runs the 1,000,000-event benchmark on a quiet machine).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const out = mkdtempSync(join(tmpdir(), 'eventbench-report-render-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('bench/report-render.ts', () => {
  it('renders a report of a synthetic run and records its time and size with the environment', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/report-render.ts', '--events', '5000', '--rate', '500', '--rounds', '2', '--out', out], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/\| render \(end of a load \/ bench run\) \| \d+ \| \d+ \| \d+ \| (yes|NO) \|/);
    expect(stdout).toMatch(/report\.html: \d+ kB \(< 2 MB: yes\)/);
    const files = readdirSync(out).sort();
    expect(files).toHaveLength(2);
    const result = JSON.parse(readFileSync(join(out, files.find((f) => f.endsWith('.json'))!), 'utf8')) as {
      environment: { machine: { cores: number } };
      settings: { eventsPerBackend: number; timelineRows: number };
      results: { rows: { medianMs: number }[]; reportBytes: number };
    };
    expect(result.settings).toMatchObject({ eventsPerBackend: 5000, timelineRows: 10 });
    expect(result.results.rows).toHaveLength(2);
    expect(result.results.reportBytes).toBeGreaterThan(50_000);
    expect(result.environment.machine.cores).toBeGreaterThan(0);
  });
});
