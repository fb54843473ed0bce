/**
 * Bad input as a user types it: one line on stderr saying what is wrong and how to fix it, exit code 2,
 * nothing on stdout, and nothing started (each run gets an empty TMPDIR of its own, where a managed
 * server would create its directory). Also: `--help` documents the exit codes.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const TSX_CACHE = `tsx-${process.getuid?.() ?? 0}`;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the run created in its TMPDIR (managed servers would show up here). */
  created: string[];
  elapsedMs: number;
}

function eventbench(args: string[], timeoutMs = 60_000): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'eventbench-bad-input-test-'));
  dirs.push(dir);
  chmodSync(dir, 0o755);
  if (existsSync(join(tmpdir(), TSX_CACHE))) symlinkSync(join(tmpdir(), TSX_CACHE), join(dir, TSX_CACHE));
  const before = new Set(readdirSync(dir));
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: dir };
  delete env.PG_URL;
  delete env.NATS_URL;
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr, created: readdirSync(dir).filter((e) => !before.has(e)), elapsedMs: Date.now() - started });
    });
  });
}

function expectOneLineRefusal(run: Run, pattern: RegExp): void {
  expect(run.code, run.stderr).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trimEnd().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(lines[0]).not.toMatch(/^\s+at /);
  expect(run.created, 'something was started').toEqual([]);
  // Refused at once: one CLI start (about 1.5 s of CPU here), no server, no connection attempt. Over 5 s
  // only on a busy machine (other test files share the cores): then no slower than a bare CLI start.
  if (run.elapsedMs >= 5000) expect(run.elapsedMs, 'refused slower than a bare CLI start').toBeLessThan(2 * bareCliStartMs());
}

/**
 * Wall time of `eventbench --version` now, the slower of two starts (the load of the moment swings one start
 * by seconds); measured synchronously, only when a refusal was slow.
 */
function bareCliStartMs(): number {
  let slowest = 0;
  for (let i = 0; i < 2; i++) {
    const t = Date.now();
    execFileSync(process.execPath, [BIN, '--version'], { stdio: 'ignore' });
    slowest = Math.max(slowest, Date.now() - t);
  }
  return slowest;
}

describe('option errors are one line pointing at the command help', () => {
  it.each([
    [['load', '--backend', 'memory', '--foo'], /^eventbench: unknown option '--foo' \(see eventbench load --help\)$/],
    [['load', '--backend', 'postgres', '--infra', 'foo'], /^eventbench: option '--infra <mode>' argument 'foo' is invalid\. Allowed choices are auto, managed, external\. \(see eventbench load --help\)$/],
    [['init', '--backend', 'mysql'], /^eventbench: option '--backend <name>' argument 'mysql' is invalid\. .* \(see eventbench init --help\)$/],
    [['generate', '--backend', 'memory', '--jsno'], /^eventbench: unknown option '--jsno' .*\(Did you mean --json\?\) \(see eventbench generate --help\)$/],
    [['bogus'], /^eventbench: unknown command 'bogus' \(see eventbench --help\)$/],
  ])('%j', async (args, pattern) => {
    expectOneLineRefusal(await eventbench(args), pattern);
  });
});

describe('validated before any server starts', () => {
  it('init --schema with a character no schema name may hold, on a managed server', async () => {
    const run = await eventbench(['init', '--backend', 'postgres', '--infra', 'managed', '--schema', 'bad;name']);
    expectOneLineRefusal(run, /--schema "bad;name": letters, digits and "_"/);
  });

  it.each([
    [['init', '--backend', 'postgres', '--pg-url', 'notaurl'], /--pg-url "notaurl" is not a URL: use postgres:\/\/user/],
    [['init', '--backend', 'postgres', '--pg-url', 'http://127.0.0.1:5432/x'], /is not a PostgreSQL URL \(scheme http\)/],
    [['load', '--backend', 'postgres', '--pg-url', 'mysql://u@127.0.0.1/x', '--duration', '1s'], /is not a PostgreSQL URL \(scheme mysql\)/],
    [['init', '--backend', 'jetstream', '--nats-url', 'http://127.0.0.1:4222'], /--nats-url "http:\/\/127\.0\.0\.1:4222" is not a NATS URL \(scheme http\)/],
    [['init', '--backend', 'jetstream', '--nats-url', 'nats://127.0.0.1:4222,'], /has an empty entry/],
    [['generate', '--backend', 'memory', '--timeout', '300000'], /--timeout "300000" needs a unit: e\.g\. 300000ms or 30s/],
    [['generate', '--backend', 'memory', '--process', '--deadline', 'soon'], /--deadline "soon" is not a duration/],
    [['generate', '--backend', 'memory', '--count', '100000000'], /--count 100000000 does not fit the memory backend, which keeps every event in this process: at most ~\d+ here/],
  ])('%j', async (args, pattern) => {
    expectOneLineRefusal(await eventbench(args), pattern);
  });
});

describe('--help', () => {
  it.concurrent.each([[[]], [['load']], [['generate']], [['init']]])('%j lists the exit codes', async (command) => {
    const run = await eventbench([...command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit codes:\n\s+0\s+success\n\s+1\s+.+\n\s+2\s+bad input.+\n\s+99\s+a --threshold was broken\n\s+130\s+interrupted/);
  });
});
