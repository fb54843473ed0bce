/**
 * `eventbench generate` as a user runs it: the case generator of docs/case-processing.md (`case_generator --backend postgres --count N`,
 * with --process, on the shared PostgreSQL (and on memory for the quick checks); bad input is one line
 * and exit 2.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import type { AppendResult, EventStore } from '../../src/core/event-store.ts';
import { runGenerate } from '../../src/runners/generate.ts';
import { createStore } from '../../src/store/index.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema } from '../postgres/helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));

function eventbench(args: string[], timeoutMs = 90_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.PG_URL;
  delete env.NATS_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

describe('eventbench generate', () => {
  const schema = uniqueName('gen');
  afterAll(() => dropSchema(schema));

  it('--backend postgres --count 200 --process: every case completed, replay equals live; a second run stores nothing new', async () => {
    const args = ['generate', '--backend', 'postgres', '--pg-url', testPgUrl(), '--namespace', schema, '--count', '200', '--seed', '9'];
    const run = await eventbench([...args, '--process', '--instances', '2', '--failure-rate', '0.2', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const r = JSON.parse(run.stdout);
    expect(r.events).toBe(200);
    expect(r.processing.completed).toBe(200);
    expect(r.processing.replayMatches).toBe(true);
    expect(r.processing.summary.byStatus.completed).toBe(200);
    expect(r.processing.effects.completion.applied).toBe(200);
    expect(r.processing.injectedFailures).toBeGreaterThan(0);
    expect(r.processing.latencyMs.count).toBe(200);

    // Same seed again: the same event ids, so the store answers "already stored" for every case; the
    // processors resume from their checkpoints (nothing to do) and the read model is rebuilt from 0.
    const again = await eventbench([...args, '--process', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const r2 = JSON.parse(again.stdout);
    expect(r2.duplicates).toBe(200);
    expect(r2.processing.completed).toBe(200);
    expect(r2.processing.effects.analysis.applied).toBe(0);
    expect(r2.processing.replayMatches).toBe(true);
    expect(r2.processing.summary).toEqual(r.processing.summary);
  });

  it('prints a human summary with the decisions and latency percentiles', async () => {
    const run = await eventbench(['generate', '--backend', 'memory', '--count', '300', '--process']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/cases completed\s+300\/300/);
    expect(run.stdout).toMatch(/by decision\s+forgive \d+, payment_plan \d+, collect \d+, refer_assistance \d+/);
    expect(run.stdout).toMatch(/latency intake->done\s+p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms/);
    expect(run.stdout).toMatch(/replay from 0\s+read model identical/);
  });

  it('shows progress with an ETA, also when paced by --speedup; --timeout and --deadline take durations', async () => {
    // Not a TTY: the first progress line comes at once, then one every 5 s.
    const fast = await eventbench(['generate', '--backend', 'memory', '--count', '20000', '--namespace', uniqueName('genp')]);
    expect(fast.code, fast.stderr).toBe(0);
    expect(fast.stderr).toMatch(/^generating: \d+\/20000 appends \(\d+%\), \d+ events, \d+ events\/s, [\d.]+ s, ETA [\d.]+ (s|min)/m);
    // debt-case arrivals are ~7 simulated minutes apart (75,531 a year): x20,000 is ~21 ms each, ~1.5 s for 70.
    const paced = await eventbench(['generate', '--backend', 'memory', '--count', '70', '--speedup', '20000', '--process', '--timeout', '2m', '--deadline', '30s', '--namespace', uniqueName('gens')]);
    expect(paced.code, paced.stderr).toBe(0);
    expect(paced.stderr).toMatch(/^generating: \d+\/70 appends \(\d+%\).*ETA/m);
    expect(paced.stdout).toMatch(/cases completed\s+70\/70/);
  });

  it('rejects bad input with one line and exit 2', async () => {
    const bad = await eventbench(['generate', '--backend', 'memory', '--workload', 'invoices', '--process']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('eventbench: --process runs the debt-case processors; use it with --workload debt-cases');
    const count = await eventbench(['generate', '--backend', 'memory', '--count', 'lots']);
    expect(count.code).toBe(2);
    expect(count.stderr).toMatch(/--count must be an integer/);
    const missing = await eventbench(['generate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--backend is required/);
  });
});

/**
 * Memory bounded independently of --count: what the runner keeps grows with the appends in flight, not
 * with the appends made. In process, against a store that acknowledges and forgets (the memory backend
 * keeps every event by design, which would hide the runner): the heap after 4N appends is within a few
 * MB of the heap after N, where keeping each append (~1.7 kB of debt-case data) would add ~100 MB.
 */
describe('runGenerate memory', () => {
  it('does not grow with the number of appends', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const real = await createStore('memory', { namespace: uniqueName('genmem') });
    const N = 15_000;
    const heapAt: Record<string, number> = {};
    let position = 0;
    const forgetful = new Proxy(real, {
      get(target, key, receiver) {
        if (key === 'appendToStream') {
          return async (_stream: string, events: unknown[]): Promise<AppendResult> => {
            const first = position + 1;
            position += events.length;
            const mark = first === N ? 'early' : first === 4 * N - 100 ? 'late' : undefined;
            if (mark) {
              gc();
              heapAt[mark] = process.memoryUsage().heapUsed;
            }
            return { streamVersion: events.length, positions: events.map((_, i) => first + i), duplicate: false };
          };
        }
        return Reflect.get(target, key, receiver) as unknown;
      },
    }) as EventStore;
    try {
      await runGenerate(forgetful, { workload: 'debt-cases', count: 4 * N, seed: 3 });
    } finally {
      await real.close();
    }
    expect(heapAt.early, 'no sample after N appends').toBeDefined();
    expect(heapAt.late, 'no sample near 4N appends').toBeDefined();
    expect((heapAt.late! - heapAt.early!) / 2 ** 20).toBeLessThan(15);
  });
});
