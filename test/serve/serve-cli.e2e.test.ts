/**
 * `eventbench serve` as a user runs it: bad input (flags, a port in use) is one line on stderr, exit 2,
 * before any server starts (each run gets an empty TMPDIR of its own, where a managed server would create
 * its directory); a real run answers on the URL it prints and stops on Ctrl-C with exit 130, its store
 * and subscription closed.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventbench, startEventbench } from '../load/cli.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';

const dirs: string[] = [];
let busy: Server;
let busyPort = 0;
beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((r) => busy.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  busyPort = (busy.address() as AddressInfo).port;
});
afterAll(async () => {
  await new Promise((r) => busy.close(r));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function refused(args: string[], pattern: RegExp): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'eventbench-serve-bad-input-'));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  const run = await eventbench(['serve', ...args], 60_000, { TMPDIR: dir });
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^eventbench: /);
  expect(lines[0]).toMatch(pattern);
  expect(readdirSync(dir).filter((e) => !e.startsWith('tsx-')), 'a server was started').toEqual([]);
}

describe('eventbench serve: bad input', () => {
  it('refuses each with one line and exit 2, nothing started', async () => {
    // Side by side: each is one CLI start that refuses at once.
    await Promise.all([
      refused([], /--backend is required: memory, postgres, jetstream, hybrid/),
      refused(['--backend', 'mysql'], /--backend.*mysql.*(Allowed choices|invalid)/i),
      refused(['--backend', 'postgres', '--port', 'http'], /--port "http" must be a port number \(0-65535\)/),
      refused(['--backend', 'postgres', '--port', '70000'], /--port "70000" must be a port number/),
      refused(['--backend', 'postgres', '--subscription', 'no spaces'], /--subscription "no spaces": letters, digits/),
      refused(['--backend', 'postgres', '--namespace', '1x'], /--namespace "1x"/),
      refused(['--backend', 'postgres', '--infra', 'managed', '--port', String(busyPort)], new RegExp(`--port ${busyPort}: 127.0.0.1:${busyPort} is in use`)),
    ]);
  }, 120_000);
});

describe('eventbench serve: a run', () => {
  const namespace = uniqueName('servecli');
  afterAll(() => dropSchema(namespace));

  it('prints its URL, answers there, and stops on Ctrl-C with exit 130', async () => {
    const cli = startEventbench(['serve', '--backend', 'postgres', '--pg-url', testPgUrl(), '--namespace', namespace, '--port', '0'], 60_000);
    const [, url] = (await cli.waitForStderr(/listening on (http:\/\/[^\s]+) /, 45_000)) as RegExpMatchArray;
    const health = (await (await fetch(`${url}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
    const page = await fetch(`${url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    cli.child.kill('SIGINT');
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(130);
    expect(run.stderr).toMatch(/eventbench serve: stopped/);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  }, 60_000);
});
