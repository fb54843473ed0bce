/**
 * The closed loop's retry policy (`--retries N`, the contention scenario's `retries:`) on real servers:
 * many writers on one stream conflict, each conflict is answered by re-reading the stream version and
 * sending the same events again, and every acknowledged append is stored exactly once: the stream's
 * versions are contiguous from 1, no event id twice, as many events as were acknowledged. The result says
 * what the retries cost. Without the policy the same race leaves conflicts as errors and no retries block.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore, RecordedEvent } from '../../src/core/event-store.ts';
import { backendResultSchema } from '../../src/report/load-result.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import type { LoadScenario } from '../../src/runners/load/scenario.ts';
import { createStore, type BackendName } from '../../src/store/index.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const opened: EventStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close();
});

const scenario = (retries: number | undefined): LoadScenario => ({
  executor: 'closed',
  workload: 'synthetic',
  seed: 3,
  runId: uniqueName('r'),
  writers: 16,
  ...(retries !== undefined ? { retries } : {}),
  streams: 1,
  durationMs: 1500,
  warmupMs: 0,
  maxInFlight: 1000,
  workers: 1,
  drainTimeoutMs: 10_000,
  consumer: false,
  metrics: false,
});

const servers = (backend: BackendName, namespace: string) => (backend === 'postgres' ? { pgUrl: testPgUrl(), namespace } : { natsUrl: testNatsUrl(), namespace });

async function readCategory(store: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (let from = 0, i = 0; i < 1000; i++) {
    const page = await store.readAll({ category: 'synthetic', fromPosition: from, limit: 1000 });
    if (page.length === 0) break;
    all.push(...page);
    from = page[page.length - 1]!.position;
  }
  return all;
}

describe.each(['postgres', 'jetstream'] as const)('retries on conflict: %s', (backend) => {
  it('16 writers on one stream: conflicts are retried and every acknowledged append lands exactly once', { timeout: 60_000 }, async () => {
    const namespace = uniqueName('retry');
    const r = backendResultSchema.parse(await runLoad({ backend, backendOptions: servers(backend, namespace), scenario: scenario(50) }));
    expect(r.error).toBeNull();
    const retries = r.retries!;
    expect(retries.limit).toBe(50);
    expect(retries.retries).toBeGreaterThan(0);
    expect(retries.retriedAppends).toBeGreaterThan(0);
    expect(retries.retriedAppends).toBeLessThanOrEqual(r.totals.appends);
    expect(retries.retriesPerSuccess).toBeCloseTo(retries.retries / r.totals.appends, 3);
    expect(retries.retriedLatency.count).toBe(retries.retriedAppends);
    // A conflict is an error only when its append was given up after the limit.
    expect(r.errors.conflict).toBe(retries.abandoned);
    expect(r.totals.unfinished).toBe(0);

    const store = await createStore(backend, servers(backend, namespace));
    opened.push(store);
    const events = await readCategory(store);
    const streams = new Set(events.map((e) => e.stream));
    expect(streams.size).toBe(1);
    expect(events.map((e) => e.version)).toEqual(events.map((_, i) => i + 1));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.length).toBe(r.totals.wholeRun.events);
  });

  it('without a retry policy the same race leaves conflicts as errors and records no retries', { timeout: 60_000 }, async () => {
    const r = backendResultSchema.parse(await runLoad({ backend, backendOptions: servers(backend, uniqueName('retry')), scenario: scenario(undefined) }));
    expect(r.retries ?? null).toBeNull();
    expect(r.errors.conflict).toBeGreaterThan(0);
  });
});
