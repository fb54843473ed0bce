/**
 * Starts the servers every int/e2e test shares, once per test run: a managed throwaway PostgreSQL
 * (embedded PG 18; EVENTBENCH_PG=system for the installed one) and a managed nats-server with
 * JetStream, on free 127.0.0.1 ports, stopped at teardown (and by src/infra's exit and signal
 * handlers if the run is interrupted). PG_URL / NATS_URL use external servers instead.
 * Tests read the URLs with testPgUrl() / testNatsUrl() (test/support/servers.ts); e2e tests pass them
 * to the CLI as --pg-url / --nats-url.
 */
import type { TestProject } from 'vitest/node';
import { openServers } from '../src/infra/servers.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const servers = await openServers(
    { infra: 'auto', pgUrl: process.env.PG_URL, natsUrl: process.env.NATS_URL, pgBin: process.env.EVENTBENCH_PG || 'embedded' },
    { postgres: true, nats: true },
  );
  const describe = (name: string, url: string | undefined, handle: { version: string; source: string } | undefined) =>
    `${name} ${handle ? `${handle.version} managed (${handle.source})` : 'external'} at ${url}`;
  process.stderr.write(
    `[global-setup] ${describe('PostgreSQL', servers.pgUrl, servers.postgres)}; ${describe('NATS', servers.natsUrl, servers.nats)}; ready in ${Date.now() - started} ms\n`,
  );
  project.provide('pgUrl', servers.pgUrl!);
  project.provide('natsUrl', servers.natsUrl!);
  return async () => {
    await servers.stop();
  };
}
