/**
 * `eventbench bench --backends hybrid`: the hybrid topology's end-to-end latency percentiles appear in the
 * bench result next to the append latency, measured like every other backend's (from the intended send
 * time: test/hybrid/end-to-end.int.test.ts), and the side-by-side table prints its e2e p99.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { eventbench } from '../load/cli.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const ns = uniqueName('hybench');
const dir = mkdtempSync(join(tmpdir(), 'eventbench-hybrid-bench-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropNamespace(`${ns}_1a0`); // the one round's namespace (runners/bench/rounds.ts)
});

it('reports end-to-end percentiles for hybrid in a bench result', async () => {
  const out = join(dir, 'bench');
  const r = await eventbench(
    ['bench', '--backends', 'hybrid', '--no-baseline', '--duration', '3s', '--warmup', '0s', '--rate', '200/s', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', ns, '--out', out],
    120_000,
  );
  expect(r.code, r.stderr).toBe(0);
  const result = loadResultSchema.parse(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')));
  const b = result.backends.find((x) => x.backend === 'hybrid')!;
  expect(b.consumer).toMatchObject({ failed: 0, caughtUp: true });
  expect(b.endToEnd).not.toBeNull();
  const e2e = b.endToEnd!;
  expect(e2e.count).toBeGreaterThan(0);
  expect(e2e.count).toBeLessThanOrEqual(b.consumer!.processed);
  for (const p of ['p50', 'p90', 'p99', 'p999', 'max'] as const) expect(e2e[p], p).toBeGreaterThan(0);
  expect(e2e.p50).toBeLessThanOrEqual(e2e.p99);
  // The table's e2e p99 column carries the figure for hybrid.
  const header = r.stdout.split('\n').find((l) => /^backend\s/.test(l))!;
  const row = r.stdout.split('\n').find((l) => /^hybrid\s/.test(l))!;
  const column = header.split(/\s{2,}/).indexOf('e2e p99 ms');
  expect(column).toBeGreaterThan(0);
  expect(Number(row.split(/\s{2,}/)[column]!.replace(/,/g, ''))).toBeCloseTo(e2e.p99, 0);
}, 150_000);
