/**
 * `eventbench init --backend hybrid`: the PostgreSQL migrations and the two JetStream streams, each item
 * reported; a second run finds everything unchanged; --preset (the jetstream backend's) is refused.
 */
import { afterAll, expect, it } from 'vitest';
import { eventbench } from '../load/cli.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const ns = uniqueName('hyinit');
afterAll(() => dropNamespace(ns));

const init = (...extra: string[]) => eventbench(['init', '--backend', 'hybrid', '--namespace', ns, '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), ...extra]);

it('creates the schema, migrations and streams once, then reports them unchanged', async () => {
  const first = await init();
  expect(first.code, first.stderr).toBe(0);
  for (const item of [`schema ${ns}`, 'migration 001_event_store', `stream ${ns}-_outbox`, `stream ${ns}-_deadletters`]) {
    expect(first.stdout).toMatch(new RegExp(`created\\s+${item}`));
  }
  const second = await init();
  expect(second.code, second.stderr).toBe(0);
  expect(second.stdout).not.toMatch(/created/);
  expect(second.stdout).toMatch(new RegExp(`unchanged\\s+stream ${ns}-_outbox`));
});

it('refuses --preset in one line, exit 2', async () => {
  const r = await init('--preset', 'CASES');
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/--preset applies to the jetstream backend/);
});
