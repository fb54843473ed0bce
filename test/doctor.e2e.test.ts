/**
 * `eventbench doctor` as a user runs it: against the shared servers, with its own managed servers, and
 * against a server that is not there (one line, exit 2, fast).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from '../src/core/environment.ts';
import { testNatsUrl, testPgUrl } from './support/servers.ts';

const BIN = fileURLToPath(new URL('../bin/eventbench.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI without PG_URL / NATS_URL from the caller's environment, so flags decide. */
function eventbench(args: string[], timeoutMs = 30_000, extraEnv: Record<string, string> = {}): Promise<Run> {
  const env = { ...process.env };
  delete env.PG_URL;
  delete env.NATS_URL;
  Object.assign(env, extraEnv);
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe('eventbench doctor', () => {
  it('--json prints the environment of the servers it is given', async () => {
    const run = await eventbench(['doctor', '--json', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const env = environmentSchema.parse(JSON.parse(run.stdout));
    expect(env.postgres?.version).toMatch(/^\d+(\.\d+)?/);
    expect(env.postgres?.settings.fsync).toBe('on');
    expect(env.postgres?.settings.synchronous_commit).toBe('on');
    expect(env.postgres?.settings.wal_sync_method).toBeTruthy();
    expect(env.nats?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(env.nats?.jetstream.enabled).toBe(true);
    expect(env.nats?.jetstream.durability).toMatch(/fsync/);
    expect(env.machine.cores).toBeGreaterThan(0);
    expect(env.node.version).toBe(process.version);
    expect(env.drivers.pg).toMatch(/^\d+\./);
    expect(env.drivers['@nats-io/jetstream']).toMatch(/^\d+\./);
    // A checkout has a revision; a tarball says null rather than failing.
    expect(env.git.revision === null || /^[0-9a-f]{40}$/.test(env.git.revision)).toBe(true);
    expect(env.postgres?.managed).toBe(false);
  });

  it('--infra managed starts its own servers (ignoring exported PG_URL / NATS_URL), reports them, and removes them', async () => {
    const run = await eventbench(['doctor', '--json', '--infra', 'managed'], 90_000, { PG_URL: 'postgres://127.0.0.1:1/x', NATS_URL: 'nats://127.0.0.1:1' });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const env = environmentSchema.parse(JSON.parse(run.stdout));
    expect(env.postgres?.managed).toBe(true);
    expect(env.postgres?.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(env.nats?.managed).toBe(true);
    expect(env.nats?.jetstream.storeDir).toBeTruthy();
    expect(env.postgres?.dataDir && existsSync(env.postgres.dataDir)).toBe(false);
    expect(env.nats?.jetstream.storeDir && existsSync(env.nats.jetstream.storeDir)).toBe(false);
  });

  it('prints a human table by default', async () => {
    const run = await eventbench(['doctor', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PostgreSQL \d+/m);
    expect(run.stdout).toMatch(/^\s+fsync\s+on$/m);
    expect(run.stdout).toMatch(/^NATS \d+\.\d+\.\d+/m);
  });

  it('an unreachable PostgreSQL: one line naming it, exit 2, within 5 s', async () => {
    // 5 s holds on an idle machine (measured ~1.0 s, most of it node + tsx start-up). When the machine is
    // overloaded (six test runs on 2 cores: `--version` alone took 10 s) the bound scales with a
    // --version run made just before; test/infra.int.test.ts checks the connect timeouts in-process.
    const baseline = await eventbench(['--version']);
    const run = await eventbench(['doctor', '--pg-url', 'postgres://127.0.0.1:1/none', '--nats-url', testNatsUrl()], 30_000);
    expect(run.code).toBe(2);
    expect(run.ms).toBeLessThan(baseline.ms < 2_000 ? 5_000 : 2 * baseline.ms + 3_000);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/PostgreSQL at postgres:\/\/127\.0\.0\.1:1\/none is unreachable/);
  });

  it('a server that accepts but never answers: connect timeout, exit 2', async () => {
    // A refused port fails at once; a silent one is what needs the timeout (and must not hang the CLI).
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const pgRun = await eventbench(['doctor', '--pg-url', `postgres://127.0.0.1:${port}/x`, '--nats-url', testNatsUrl()], 60_000);
      expect(pgRun, JSON.stringify(pgRun)).toMatchObject({ code: 2 });
      expect(pgRun.stderr.trim().split('\n')).toEqual([expect.stringMatching(/PostgreSQL at .* is unreachable: no answer within 3000 ms/)]);
      const natsRun = await eventbench(['doctor', '--pg-url', testPgUrl(), '--nats-url', `nats://127.0.0.1:${port}`], 60_000);
      expect(natsRun, JSON.stringify(natsRun)).toMatchObject({ code: 2 });
      expect(natsRun.stderr.trim().split('\n')).toEqual([expect.stringMatching(/NATS at nats:\/\/127\.0\.0\.1:\d+ is unreachable: no answer within 3000 ms/)]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('an unreachable NATS: one line naming it, exit 2', async () => {
    const run = await eventbench(['doctor', '--pg-url', testPgUrl(), '--nats-url', 'nats://127.0.0.1:1'], 10_000);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/NATS at nats:\/\/127\.0\.0\.1:1 is unreachable/)]);
  });

  it('--infra managed with an explicit --pg-url is a contradiction: exit 2', async () => {
    const run = await eventbench(['doctor', '--infra', 'managed', '--pg-url', testPgUrl()]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--infra managed starts its own PostgreSQL, but a URL is set/);
  });

  it('--infra external without URLs says which flag is missing', async () => {
    const run = await eventbench(['doctor', '--infra', 'external']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--pg-url/);
  });
});

describe('eventbench', () => {
  it('--help lists doctor, --version prints the package version', async () => {
    const help = await eventbench(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/doctor/);
    const version = await eventbench(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
