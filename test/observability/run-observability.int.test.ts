/**
 * `--prometheus` and the run's `--out`: the managed Prometheus's TSDB (`<out>/prometheus`) stays when the
 * run wrote a result and goes when it did not (a failed run leaves nothing behind), and an earlier run's
 * kept data is never removed. Real Prometheus, real /metrics server; the servers of a run are not needed.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { natsMonitorUrls, startRunObservability } from '../../src/cli/run-observability.ts';
import type { Servers } from '../../src/infra/servers.ts';
import { startMetricsServer } from '../../src/runners/load/metrics-server.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-run-observability-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const noServers: Servers = { topology: 'single', stop: async () => {}, [Symbol.asyncDispose]: async () => {} };

/** One run with --prometheus into `outDir`; `during` is what the run does before it ends. */
async function run(outDir: string, during: () => void, resultWritten?: () => boolean): Promise<void> {
  const metricsServer = await startMetricsServer(0);
  metricsServer.setSource(async () => 'eventbench_test_up 1\n');
  try {
    await using _observability = await startRunObservability({
      options: { prometheus: true },
      metricsServer,
      metricsHost: '127.0.0.1',
      servers: noServers,
      runId: 'r1',
      outDir,
      ...(resultWritten ? { resultWritten } : {}),
    });
    expect(existsSync(join(outDir, 'prometheus', 'prometheus.yml'))).toBe(true);
    during();
  } finally {
    await metricsServer.close();
  }
}

describe('the TSDB under --out', () => {
  it('is removed when the run wrote no result', async () => {
    const out = join(dir, 'failed');
    mkdirSync(out);
    await run(out, () => {});
    expect(existsSync(join(out, 'prometheus'))).toBe(false);
  }, 60_000);

  it('is kept when the run wrote its result.json (load, bench)', async () => {
    const out = join(dir, 'written');
    mkdirSync(out);
    await run(out, () => writeFileSync(join(out, 'result.json'), '{}\n'));
    expect(existsSync(join(out, 'prometheus', 'browse.yml'))).toBe(true);
  }, 60_000);

  it('follows the caller’s own rule when it has one (chaos: a verdict was written)', async () => {
    const out = join(dir, 'chaos');
    mkdirSync(out);
    let written = false;
    await run(out, () => (written = true), () => written);
    expect(existsSync(join(out, 'prometheus', 'browse.yml'))).toBe(true);
  }, 60_000);

  it('is left alone when an earlier run made it, even if this run failed', async () => {
    const out = join(dir, 'again');
    mkdirSync(join(out, 'prometheus'), { recursive: true });
    writeFileSync(join(out, 'prometheus', 'earlier'), 'kept\n');
    await run(out, () => {});
    expect(existsSync(join(out, 'prometheus', 'earlier'))).toBe(true);
  }, 60_000);
});

describe('natsMonitorUrls', () => {
  it('polls every host of an external cluster URL on 8222, the flag’s URL when given', () => {
    expect(natsMonitorUrls({ natsUrl: 'nats://10.0.0.1:4222,nats://10.0.0.2:4222,10.0.0.3' }, undefined)).toEqual([
      'http://10.0.0.1:8222',
      'http://10.0.0.2:8222',
      'http://10.0.0.3:8222',
    ]);
    expect(natsMonitorUrls({ natsUrl: 'nats://10.0.0.1:4222' }, 'http://mon:8222')).toEqual(['http://mon:8222']);
  });
});
