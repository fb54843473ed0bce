/**
 * Relay lag: outbox rows not yet published and the age of the oldest, read from the outbox's partial
 * index on unpublished rows (cheap while the relay keeps up, which is when it is read most). As Prometheus
 * gauges, collected at scrape time, under the names of src/core/metrics.ts.
 */
import type pg from 'pg';
import { Gauge, type Registry } from 'prom-client';
import { METRIC } from '../../core/metrics.ts';

export interface RelayLag {
  /** Outbox rows written and not yet published. */
  pending: number;
  /** Seconds since the oldest of them was written (0 when none). */
  oldestAgeSeconds: number;
}

export async function readRelayLag(pool: pg.Pool, schema: string): Promise<RelayLag> {
  const { rows } = await pool.query<{ pending: string; age: string | null }>(
    `SELECT count(*) AS pending, extract(epoch FROM clock_timestamp() - min(created_at)) AS age
       FROM "${schema}".outbox WHERE NOT published`,
  );
  return { pending: Number(rows[0]!.pending), oldestAgeSeconds: Math.max(0, Number(rows[0]!.age ?? 0)) };
}

/**
 * Registers the two relay-lag gauges on `registry`; each scrape reads the lag once. A read that fails (the
 * store closing at the end of a run, PostgreSQL down) leaves both series out of that scrape rather than
 * failing the whole /metrics answer or repeating a stale value.
 */
export function registerRelayLagMetrics(registry: Registry, read: () => Promise<RelayLag>, backend = 'hybrid'): void {
  let last: Promise<RelayLag> | undefined;
  // Both gauges are collected in one scrape: one query serves them.
  const once = () => (last ??= read().finally(() => setTimeout(() => (last = undefined), 0)));
  new Gauge({
    name: METRIC.outboxPending,
    help: 'Outbox rows written and not yet published by the relay',
    labelNames: ['backend'],
    registers: [registry],
    async collect() {
      const lag = await once().catch(() => undefined);
      if (lag) this.set({ backend }, lag.pending);
      else this.reset();
    },
  });
  new Gauge({
    name: METRIC.outboxOldestAge,
    help: 'Age of the oldest outbox row not yet published, seconds',
    labelNames: ['backend'],
    registers: [registry],
    async collect() {
      const lag = await once().catch(() => undefined);
      if (lag) this.set({ backend }, lag.oldestAgeSeconds);
      else this.reset();
    },
  });
}
