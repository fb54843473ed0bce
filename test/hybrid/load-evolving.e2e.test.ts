/**
 * `eventbench load --backend hybrid --workload invoices-evolving --metrics-port 0`, as a user runs it:
 * - /metrics, scraped during the load, carries the relay-lag gauges (outbox rows waiting, the oldest's age)
 *   with sane values next to the run's own series;
 * - the workload's schema evolves mid-run: PostgreSQL holds events at version 1 and at the current version 3,
 *   and the run's consumer (on JetStream, through the upcasters) handled every event at the current version
 *   (its check refuses any other), none failed, and a reader's readAll sees version 3 only;
 * - the result carries end-to-end percentiles for hybrid.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { METRIC } from '../../src/core/metrics.ts';
import { schemaVersionOf } from '../../src/core/upcasting.ts';
import { createPostgresStore } from '../../src/store/postgres/index.ts';
import { readerView } from '../../src/workloads/event-schemas.ts';
import { workloads } from '../../src/workloads/index.ts';
import { startEventbench } from '../load/cli.ts';
import { parseExposition } from '../load/exposition.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';
import { dropNamespace } from './helpers.ts';

const ns = uniqueName('hyevo');
const dir = mkdtempSync(join(tmpdir(), 'eventbench-hybrid-load-'));
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropNamespace(ns);
});

it('shows relay lag on /metrics during a hybrid load; an evolving workload stores both versions and is consumed at the current one', async () => {
  const out = join(dir, 'run');
  // 250/s for 1 s warm-up + 8 s: ~2,250 events, the first 1,000 at schema version 1.
  const run = startEventbench(
    ['load', '--backend', 'hybrid', '--workload', 'invoices-evolving', '--rate', '250/s', '--duration', '8s', '--warmup', '1s',
      '--metrics-port', '0', '--pg-url', testPgUrl(), '--nats-url', testNatsUrl(), '--namespace', ns, '--out', out],
    150_000,
  );
  try {
    const [, url] = (await run.waitForStderr(/metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/, 60_000))!;
    await run.waitForStderr(/\[hybrid\] measure/, 60_000);
    // Scrape until the consumer has handled something (bounded: 50 scrapes).
    let samples = parseExposition('').samples;
    for (let i = 0; i < 50; i++) {
      samples = parseExposition(await (await fetch(url!)).text()).samples;
      if (samples.some((s) => s.name === 'event_processed_total' && s.value > 0) && samples.some((s) => s.name === METRIC.outboxPending)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const pending = samples.find((s) => s.name === METRIC.outboxPending);
    const age = samples.find((s) => s.name === METRIC.outboxOldestAge);
    expect(pending, 'the outbox-pending gauge').toBeDefined();
    expect(age, 'the oldest-age gauge').toBeDefined();
    expect(pending!.labels).toEqual({ backend: 'hybrid' });
    expect(Number.isInteger(pending!.value) && pending!.value >= 0).toBe(true);
    // Sane: the relay keeps up with 250/s, so nothing waits anywhere near the run's length.
    expect(pending!.value).toBeLessThan(2_250);
    expect(age!.value).toBeGreaterThanOrEqual(0);
    expect(age!.value).toBeLessThan(30);
  } finally {
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
  }

  const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8'));
  const backend = result.backends[0];
  expect(backend.backend).toBe('hybrid');
  expect(backend.consumer.failed).toBe(0);
  expect(backend.consumer.caughtUp).toBe(true);
  expect(backend.endToEnd.count).toBeGreaterThan(0);
  expect(backend.endToEnd.p99).toBeGreaterThanOrEqual(backend.endToEnd.p50);

  // What PostgreSQL stores: both versions, as written.
  const store = await createPostgresStore({ pgUrl: testPgUrl(), schema: ns, outbox: true });
  try {
    const counts = new Map<number, number>();
    for (let from = 0, page = 0; page < 100; page++) {
      const events = await store.readAll({ category: 'payment', fromPosition: from, limit: 1000 });
      if (events.length === 0) break;
      for (const e of events) counts.set(schemaVersionOf(e), (counts.get(schemaVersionOf(e)) ?? 0) + 1);
      from = events.at(-1)!.position;
    }
    expect(counts.get(1)).toBe(1000);
    expect(counts.get(3)).toBeGreaterThan(0);
    expect([...counts.keys()].sort()).toEqual([1, 3]);
    // Every stored event reached the consumer, version 1 ones upcast (its check accepts version 3 only).
    expect(backend.consumer.processed).toBe(counts.get(1)! + counts.get(3)!);
    // A reader's readAll (the workload's reader view) sees version 3 only, valid against it.
    const reader = readerView(workloads['invoices-evolving'], store);
    const first = await reader.store.readAll({ category: 'payment', fromPosition: 0, limit: 1500 });
    expect(first.length).toBe(Math.min(1500, counts.get(1)! + counts.get(3)!));
    for (const e of first) reader.workload.validate(e);
    expect(new Set(first.map(schemaVersionOf))).toEqual(new Set([3]));
  } finally {
    await store.close();
  }
}, 180_000);
