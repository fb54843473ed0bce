/**
 * An external server that does not work: "unreachable" (nothing answers) is told apart from "reachable
 * but refused" (a server answered and said no: unknown role or database, no JetStream), one line, exit 2.
 * Against the shared test PostgreSQL (trust authentication: only the role and database can be wrong),
 * a port nothing listens on, and a nats-server of this test's own started without JetStream.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findNatsServer } from '../../src/infra/managed-nats.ts';
import { freePort } from '../../src/infra/managed-process.ts';
import { probeNatsInfo } from '../../src/infra/servers.ts';
import { testNatsUrl, testPgUrl } from '../support/servers.ts';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));

function eventbench(args: string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.PG_URL;
  delete env.NATS_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

function withUrl(base: string, change: (u: URL) => void): string {
  const u = new URL(base);
  change(u);
  return u.toString();
}

function oneLine(run: { code: number | null; stderr: string }): string {
  expect(run.code, run.stderr).toBe(2);
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  return lines[0]!;
}

describe('PostgreSQL URLs', () => {
  it.concurrent('a role the server does not know: reachable but refused, naming the role', async () => {
    const url = withUrl(testPgUrl(), (u) => (u.username = 'no_such_role'));
    const line = oneLine(await eventbench(['init', '--backend', 'postgres', '--pg-url', url]));
    expect(line).toMatch(/PostgreSQL at .* is reachable but refused: role "no_such_role" does not exist \[SQLSTATE 28000\]/);
  });

  it.concurrent('a database the server does not have: reachable but refused, naming the database', async () => {
    const url = withUrl(testPgUrl(), (u) => (u.pathname = '/no_such_db'));
    const line = oneLine(await eventbench(['init', '--backend', 'postgres', '--pg-url', url]));
    expect(line).toMatch(/is reachable but refused: database "no_such_db" does not exist \[SQLSTATE 3D000\]/);
  });

  it.concurrent('a URL without a user name: reachable but refused, saying that no user was given', async () => {
    // node-postgres then uses $USER; the test server only knows `postgres`.
    if (process.env.USER === 'postgres') return; // that user exists there: nothing to refuse
    const url = withUrl(testPgUrl(), (u) => (u.username = ''));
    const line = oneLine(await eventbench(['init', '--backend', 'postgres', '--pg-url', url]));
    expect(line).toMatch(/is reachable but refused: .+ \[SQLSTATE 28000\] \(the URL names no user(, so \$USER ".+" was used|, and \$USER is not set)\)/);
  });

  it.concurrent('a port nothing listens on: unreachable', async () => {
    const port = await freePort();
    const line = oneLine(await eventbench(['init', '--backend', 'postgres', '--pg-url', `postgres://postgres@127.0.0.1:${port}/postgres`]));
    expect(line).toMatch(new RegExp(`PostgreSQL at postgres://postgres@127\\.0\\.0\\.1:${port}/postgres is unreachable: connect ECONNREFUSED`));
  });
});

describe.skipIf(!findNatsServer())('NATS URLs', () => {
  let plain: ChildProcess | undefined;
  let plainUrl = '';
  beforeAll(async () => {
    const port = await freePort();
    plainUrl = `nats://127.0.0.1:${port}`;
    // Core NATS only (no -js): cheap to start, and what a misconfigured production server looks like.
    plain = spawn(findNatsServer()!, ['-a', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await probeNatsInfo(plainUrl, 1_000);
        break;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  });
  afterAll(() => {
    if (plain?.pid !== undefined && plain.exitCode === null) process.kill(plain.pid, 'SIGKILL');
  });

  it('a server without JetStream: reachable but refused, saying how to enable it', async () => {
    const line = oneLine(await eventbench(['init', '--backend', 'jetstream', '--nats-url', plainUrl]));
    expect(line).toMatch(/NATS at nats:\/\/127\.0\.0\.1:\d+ is reachable but refused: JetStream is not enabled on this server \(start nats-server with -js/);
  });

  it('doctor still reports such a server (that is what it is for)', async () => {
    const run = await eventbench(['doctor', '--json', '--pg-url', testPgUrl(), '--nats-url', plainUrl]);
    expect(run.code, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { nats: { jetstream: { enabled: boolean } } }).nats.jetstream.enabled).toBe(false);
  });

  it('a port nothing listens on: unreachable', async () => {
    const port = await freePort();
    const line = oneLine(await eventbench(['init', '--backend', 'jetstream', '--nats-url', `127.0.0.1:${port}`]));
    expect(line).toMatch(/NATS at 127\.0\.0\.1:\d+ is unreachable: connection refused/);
  });

  it('the test server (JetStream enabled) passes the same check', async () => {
    const run = await eventbench(['doctor', '--json', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl()]);
    expect(run.code, run.stderr).toBe(0);
  });
});
