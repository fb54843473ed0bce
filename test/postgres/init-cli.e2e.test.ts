/**
 * `eventbench init --backend postgres` as a user runs it: twice against the test server; the second run
 * changes nothing (every item `unchanged`, the schema's objects identical).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import type { InitReport } from '../../src/store/index.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const schema = uniqueName('pge');

function eventbench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.PG_URL;
  delete env.NATS_URL;
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

/** Every object of the schema with its definition, to prove the second run touched nothing. */
const objects = () =>
  withClient(async (c) => {
    const { rows } = await c.query(
      `SELECT c.relname, c.relkind, c.relfilenode, c.xmin::text AS xmin FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1
       UNION ALL
       SELECT p.proname, 'f', p.oid, p.xmin::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1
       ORDER BY 1`,
      [schema],
    );
    return rows;
  });

afterAll(async () => {
  await dropSchema(schema);
});

it('init --backend postgres twice: the first creates schema and migrations, the second changes nothing', async () => {
  const first = await eventbench(['init', '--backend', 'postgres', '--pg-url', testPgUrl(), '--schema', schema, '--json']);
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  const report1 = JSON.parse(first.stdout) as InitReport;
  expect(report1.backend).toBe('postgres');
  expect(report1.items.map((i) => i.status)).toEqual(report1.items.map(() => 'created'));
  expect(report1.items.map((i) => i.kind)).toEqual(['schema', 'migration', 'migration']);
  const before = await objects();
  expect(before.map((o) => o.relname)).toEqual(expect.arrayContaining(['events', 'streams', 'outbox', 'subscriptions', 'event_log', 'dead_letters', 'claim_events']));

  const second = await eventbench(['init', '--backend', 'postgres', '--pg-url', testPgUrl(), '--schema', schema]);
  expect(second.code).toBe(0);
  expect(second.stdout).toContain('nothing changed');
  expect(second.stdout).not.toContain('created');
  expect(await objects()).toEqual(before);
});

it('init against a server that is not there: one line, exit 2', async () => {
  const run = await eventbench(['init', '--backend', 'postgres', '--pg-url', 'postgres://postgres@127.0.0.1:1/x', '--schema', schema]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
});

it('init on a throwaway (managed) server says the result is discarded and how to keep it', async () => {
  const run = await eventbench(['init', '--backend', 'postgres', '--infra', 'managed', '--schema', schema]);
  expect(run.code, run.stderr).toBe(0);
  expect(run.stdout).toMatch(/created\s+schema/);
  expect(run.stderr.trim()).toMatch(/^eventbench: note: this ran against a throwaway PostgreSQL started for this command, stopped and deleted now; to keep the result, run init against your server with --pg-url \/ PG_URL/);
});

it('a bad --schema is refused before a managed PostgreSQL starts', async () => {
  const run = await eventbench(['init', '--backend', 'postgres', '--infra', 'managed', '--schema', 'bad;name']);
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toEqual(['eventbench: --schema "bad;name": letters, digits and "_", starting with a letter, at most 41']);
  // test/cli/bad-input.e2e.test.ts shows that nothing was started (no temp directory of a server).
});
