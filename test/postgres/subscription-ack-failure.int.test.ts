/**
 * A PostgreSQL subscriber whose acknowledgement fails (every connection reset by a fault proxy while the
 * page is handled) gets the range back after ack wait, handles it again and acknowledges it: the lag
 * reaches 0 and event_log holds one success per event. (The subscriber once remembered the failed
 * acknowledgement by claim id alone and skipped every later acknowledgement of that claim, so the range
 * came back every ack wait, forever.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { EventStore } from '../../src/core/event-store.ts';
import { createFaultProxy, proxiedUrl, type FaultProxy } from '../../src/infra/fault-proxy.ts';
import { createStore } from '../../src/store/index.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema, withClient } from './helpers.ts';

describe('postgres subscription: a failed acknowledgement', () => {
  const schema = uniqueName('ackf');
  let proxy: FaultProxy | undefined;
  let store: EventStore | undefined;
  afterAll(async () => {
    await store?.close();
    await proxy?.close();
    await dropSchema(schema);
  });

  it('is redelivered after ack wait and then acknowledged by the same subscriber', { timeout: 30_000 }, async () => {
    const u = new URL(testPgUrl());
    proxy = await createFaultProxy({ upstream: { host: u.hostname, port: Number(u.port) } });
    store = await createStore('postgres', { pgUrl: proxiedUrl(testPgUrl(), proxy), namespace: schema, settings: { pollIntervalMs: 200 } });
    const category = uniqueName('ack');
    for (let i = 0; i < 16; i++) await store.appendToStream(`${category}-${i}`, [{ id: `${category}-e${i}`, type: 'thing.happened', data: { i } }]);

    const handled = new Map<number, number>();
    let cut = false;
    let healTimer: NodeJS.Timeout | undefined;
    const name = uniqueName('ackf');
    const sub = await store.subscribe(
      name,
      async (e) => {
        handled.set(e.position, (handled.get(e.position) ?? 0) + 1);
        if (!cut) {
          // Reset every connection while the page is being handled: its acknowledgement cannot reach the server.
          cut = true;
          await proxy!.add({ type: 'reset_peer', timeout: 0 });
          healTimer = setTimeout(() => void proxy!.heal(), 500);
        }
      },
      { category, batchSize: 16, maxInFlight: 16, ackWaitMs: 1000 },
    );
    try {
      const until = Date.now() + 15_000;
      let lag = -1;
      while (Date.now() < until) {
        lag = await sub.lag().catch(() => -1);
        if (lag === 0 && cut) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(cut).toBe(true);
      expect(lag, 'the range was acknowledged after it came back').toBe(0);
      expect(handled.size).toBe(16);
      expect([...handled.values()].some((n) => n > 1), 'the range was delivered again after the failed acknowledgement').toBe(true);
      const { rows } = await withClient((c) =>
        c.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${schema}".event_log WHERE subscription = $1 AND outcome = 'success'`, [name]),
      );
      expect(rows[0]!.n).toBe(16);
    } finally {
      clearTimeout(healTimer);
      await sub.close();
    }
  });
});
