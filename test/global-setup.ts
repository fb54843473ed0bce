/**
 * Starts the servers every int/e2e test shares, once per test run. (Interim: uses PG_URL / NATS_URL;
 * the infra work replaces this with managed throwaway servers when the variables are not set.)
 */
import type { TestProject } from 'vitest/node';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  project.provide('pgUrl', process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
  project.provide('natsUrl', process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
  return async () => {};
}
