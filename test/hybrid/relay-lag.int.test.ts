/**
 * Relay lag as Prometheus gauges (eventbench_outbox_pending_events, eventbench_outbox_oldest_age_seconds):
 * with no relay running, appends pile up in the outbox and the gauges show them; a relay drains them to 0;
 * a read that fails leaves both series out of that scrape.
 */
import { Registry } from 'prom-client';
import { afterAll, expect, it } from 'vitest';
import { METRIC } from '../../src/core/metrics.ts';
import { hybridDescriptor } from '../../src/store/hybrid/descriptor.ts';
import { createHybridStore, registerRelayLagMetrics, type HybridStore } from '../../src/store/hybrid/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const ns = uniqueName('hylag');
const stores: HybridStore[] = [];
afterAll(async () => {
  await Promise.allSettled(stores.map((s) => s.close()));
  await dropNamespace(ns);
});

const open = async (relay: 'poll' | 'none') => {
  const s = await createHybridStore({ pgUrl: testPgUrl(), natsUrl: testNatsUrl(), namespace: ns, settings: hybridDescriptor.parseSettings({ relay }) });
  stores.push(s);
  await s.init();
  return s;
};

function gauge(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{backend="hybrid"}`));
  if (!line) throw new Error(`${name} not exposed:\n${text}`);
  return Number(line.split(' ').pop());
}

it('exposes outbox rows waiting and the oldest one\'s age; both fall to 0 once a relay runs', async () => {
  const writer = await open('none');
  const registry = new Registry();
  registerRelayLagMetrics(registry, () => writer.relayLag());
  for (let i = 0; i < 25; i++) await writer.appendToStream(`lag-${i % 5}`, [{ id: `l${i}`, type: 'lag.tested', data: { i } }]);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  const before = await registry.metrics();
  expect(gauge(before, METRIC.outboxPending)).toBe(25);
  expect(gauge(before, METRIC.outboxOldestAge)).toBeGreaterThanOrEqual(1);

  const relay = await open('poll');
  await waitFor('drained', async () => gauge(await registry.metrics(), METRIC.outboxPending) === 0, 10_000);
  expect(gauge(await registry.metrics(), METRIC.outboxOldestAge)).toBe(0);
  expect(relay.relayedCount()).toBe(25);
});

it('a scrape whose read fails leaves the two series out instead of failing /metrics or repeating a stale value', async () => {
  const registry = new Registry();
  let fail = false;
  registerRelayLagMetrics(registry, async () => {
    if (fail) throw new Error('store closed');
    return { pending: 3, oldestAgeSeconds: 1.5 };
  });
  const before = await registry.metrics();
  expect(gauge(before, METRIC.outboxPending)).toBe(3);
  expect(gauge(before, METRIC.outboxOldestAge)).toBe(1.5);
  fail = true;
  await new Promise((resolve) => setTimeout(resolve, 20)); // one read serves the scrape in progress only
  const after = await registry.metrics();
  expect(after).not.toMatch(new RegExp(`^${METRIC.outboxPending}\\{`, 'm'));
  expect(after).not.toMatch(new RegExp(`^${METRIC.outboxOldestAge}\\{`, 'm'));
});
