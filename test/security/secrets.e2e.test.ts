/**
 * Secrets never leave a run (docs/security.md): `eventbench load` and `doctor` against secured servers
 * given by URL (passwords in the URLs, the run's CAs as parameters), and `load` on managed servers made
 * with `--nats-security accounts+tls --pg-security role+tls`, write no password or token into stdout,
 * stderr, result.json, summary.md or report.html; the URLs they record are redacted. Bad security input is
 * one line, exit 2, before anything starts.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startManagedNats, type NatsServerHandle } from '../../src/infra/managed-nats.ts';
import { startManagedPostgres, type PostgresServerHandle } from '../../src/infra/managed-postgres.ts';
import { eventbench, type CliRun } from '../load/cli.ts';
import { uniqueName } from '../support/servers.ts';

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755); // a managed PostgreSQL runs as `postgres` when we are root
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Everything a run left for a reader: its output and every file it wrote. */
function everythingWritten(run: CliRun, outDir: string): string {
  const files = readdirSync(outDir, { recursive: true, encoding: 'utf8' })
    .map((f) => join(outDir, f))
    .filter((f) => statSync(f).isFile());
  expect(files.map((f) => f.slice(outDir.length + 1))).toEqual(expect.arrayContaining(['result.json', 'summary.md', 'report.html']));
  return [run.stdout, run.stderr, ...files.map((f) => readFileSync(f, 'utf8'))].join('\n');
}

const LOAD = ['load', '--backend', 'hybrid', '--rate', '50/s', '--duration', '2s', '--threshold', 'error_rate<1%'];

describe('secured servers given by URL', () => {
  let nats: NatsServerHandle;
  let postgres: PostgresServerHandle;
  beforeAll(async () => {
    [nats, postgres] = await Promise.all([startManagedNats({ security: 'accounts+tls' }), startManagedPostgres({ security: 'role+tls' })]);
  }, 120_000);
  afterAll(async () => {
    await Promise.allSettled([nats?.stop(), postgres?.stop()]);
  });

  it('bench with its raw-driver baselines authenticates like the adapters and keeps the passwords out of everything it writes', async () => {
    const secrets = [nats.security!.users!.domain.password, postgres.security!.role!.password];
    const out = join(tempDir('eventbench-secrets-bench-'), 'run');
    const bench = await eventbench(
      ['bench', '--backends', 'postgres,jetstream', '--rate', '50/s', '--duration', '2s', '--warmup', '0s', '--pg-url', postgres.url, '--nats-url', nats.url, '--out', out],
      240_000,
    );
    expect(bench.code, bench.stderr).toBe(0);
    const written = everythingWritten(bench, out);
    for (const secret of secrets) expect(written).not.toContain(secret);
    // Every round ran, the raw drivers' included: raw-jetstream connected with the URL's credentials and TLS.
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    const rounds = JSON.stringify(result);
    for (const store of ['raw-postgres', 'raw-jetstream']) expect(rounds).toContain(store);
    expect(rounds).not.toMatch(/Authorization Violation/);
  }, 300_000);

  it('load (hybrid: PostgreSQL and NATS) and doctor keep the passwords out of everything they write', async () => {
    const secrets = [nats.security!.users!.domain.password, postgres.security!.role!.password];
    const out = join(tempDir('eventbench-secrets-'), 'run');
    const urls = ['--pg-url', postgres.url, '--nats-url', nats.url];
    const load = await eventbench([...LOAD, ...urls, '--namespace', uniqueName('sec'), '--out', out], 150_000);
    expect(load.code, load.stderr).toBe(0);
    const written = everythingWritten(load, out);
    for (const secret of secrets) expect(written).not.toContain(secret);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.environment.postgres.url).toMatch(/^postgres:\/\/eventbench:\*\*\*@127\.0\.0\.1:/);
    expect(result.environment.nats.url).toMatch(/^tls:\/\/domain_user:\*\*\*@127\.0\.0\.1:/);

    const doctor = await eventbench(['doctor', ...urls], 60_000);
    const doctorJson = await eventbench(['doctor', '--json', ...urls], 60_000);
    for (const run of [doctor, doctorJson]) {
      expect(run.code, run.stderr).toBe(0);
      for (const secret of secrets) expect(run.stdout + run.stderr).not.toContain(secret);
    }
    expect(doctor.stdout).toContain('domain_user:***@');
  }, 240_000);

  it('takes an nkey seed and a CA from --nats-nkey / --nats-tlsca, or from NATS_NKEY / NATS_CA', async () => {
    const bare = `tls://127.0.0.1:${nats.port}`;
    const { seedFile } = nats.security!.users!.nkey;
    const caFile = nats.security!.tls!.caFile;
    const flags = await eventbench(['doctor', '--json', '--pg-url', postgres.url, '--nats-url', bare, '--nats-nkey', seedFile, '--nats-tlsca', caFile], 60_000);
    expect(flags.code, flags.stderr).toBe(0);
    expect(JSON.parse(flags.stdout).nats.jetstream.enabled).toBe(true);
    const env = await eventbench(['doctor', '--json', '--pg-url', postgres.url, '--nats-url', bare], 60_000, { NATS_NKEY: seedFile, NATS_CA: caFile });
    expect(env.code, env.stderr).toBe(0);
    // Without the nkey the server refuses: the flags did the work.
    const none = await eventbench(['doctor', '--json', '--pg-url', postgres.url, '--nats-url', bare, '--nats-tlsca', caFile], 60_000);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/reachable but refused: .*Authorization Violation/);
  }, 180_000);

  it('a wrong password is refused in one line that does not repeat it, exit 2', async () => {
    const wrong = nats.url.replace(/:[^:@]+@/, ':wrong-password-123@');
    const run = await eventbench(['load', '--backend', 'jetstream', '--nats-url', wrong, '--duration', '1s'], 60_000);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/reachable but refused: .*Authorization Violation/);
    expect(run.stderr).not.toContain('wrong-password-123');
  }, 90_000);
});

describe('managed servers with --nats-security accounts+tls --pg-security role+tls', () => {
  it('runs a load as the non-superuser role and domain_user over TLS, and records only redacted URLs', async () => {
    const dir = tempDir('eventbench-secrets-managed-');
    const out = join(dir, 'run');
    const load = await eventbench([...LOAD, '--infra', 'managed', '--nats-security', 'accounts+tls', '--pg-security', 'role+tls', '--out', out], 150_000, { TMPDIR: dir });
    expect(load.code, load.stderr).toBe(0);
    const written = everythingWritten(load, out);
    // The secrets were made inside the run, so look for their shape: a user part followed by anything but the mask.
    expect(written).not.toMatch(/domain_user:(?!\*\*\*@)[^@\s"]+@/);
    expect(written).not.toMatch(/eventbench:(?!\*\*\*@)[^@\s"/]+@127/);
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
    expect(result.environment.postgres.url).toMatch(/^postgres:\/\/eventbench:\*\*\*@127\.0\.0\.1:\d+\/eventbench\?sslmode=verify-full/);
    expect(result.environment.nats.url).toMatch(/^tls:\/\/domain_user:\*\*\*@127\.0\.0\.1:\d+\?tlsca=/);
    // The servers, their keys and certificates went with the run.
    expect(readdirSync(dir).filter((e) => e.startsWith('eventbench-pg-') || e.startsWith('eventbench-nats-'))).toEqual([]);
  }, 240_000);

  it('refuses bad security input in one line, exit 2, before anything starts', async () => {
    const cases: [string[], RegExp][] = [
      [['--nats-security', 'accounts', '--nats-url', 'nats://127.0.0.1:1'], /--nats-security accounts configures a managed nats-server, but a NATS URL is given/],
      [['--pg-security', 'role', '--pg-url', 'postgres://u@127.0.0.1:1/db', '--backend', 'postgres'], /--pg-security role configures a managed PostgreSQL, but a PostgreSQL URL is given/],
      [['--nats-tlsca', '/nonexistent/ca.pem', '--nats-url', 'nats://127.0.0.1:1'], /--nats-tlsca "\/nonexistent\/ca.pem": no readable file there/],
      [['--nats-nkey', '/nonexistent/u.nk'], /--nats-nkey applies to an external NATS: give --nats-url/],
      [['--nats-security', 'kerberos'], /--nats-security.*kerberos.*(Allowed choices|invalid)/i],
    ];
    await Promise.all(
      cases.map(async ([args, pattern]) => {
        const dir = tempDir('eventbench-secrets-bad-');
        const backend = args.includes('--backend') ? [] : ['--backend', 'jetstream'];
        const run = await eventbench(['load', ...backend, '--duration', '1s', ...args], 60_000, { TMPDIR: dir });
        expect(run.code, run.stderr).toBe(2);
        const lines = run.stderr.trimEnd().split('\n');
        expect(lines, run.stderr).toHaveLength(1);
        expect(lines[0]).toMatch(pattern);
        expect(readdirSync(dir).filter((e) => !e.startsWith('tsx-')), 'a server was started').toEqual([]);
      }),
    );
  }, 120_000);
});
