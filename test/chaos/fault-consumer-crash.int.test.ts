/**
 * Consumer crash (src/runners/chaos/consumer-crash.ts): a consumer process SIGKILLed while a delivery is
 * in flight, then started again; its durable subscription resumes and the delivery it died on comes back
 * (at-least-once), on each backend.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { NewEvent } from '../../src/core/event-store.ts';
import { isAlive, waitFor } from '../../src/infra/process-registry.ts';
import { startConsumerProcess } from '../../src/runners/chaos/consumer-crash.ts';
import { createStore } from '../../src/store/index.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/consumer.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

const backends = [
  { backend: 'postgres' as const, url: () => testPgUrl(), drop: (ns: string) => dropSchema(ns) },
  { backend: 'jetstream' as const, url: () => testNatsUrl(), drop: (ns: string) => deleteStreams(testNatsUrl(), ns) },
];

describe.each(backends)('consumer crash on $backend', ({ backend, url, drop }) => {
  it('a consumer SIGKILLed in mid-batch restarts and its durable subscription resumes: every event handled, the one in flight again', async () => {
    const namespace = uniqueName('cc');
    cleanups.push(() => drop(namespace));
    const store = await createStore(backend, { pgUrl: testPgUrl(), natsUrl: testNatsUrl(), namespace });
    cleanups.push(() => store.close());
    const ids: string[] = [];
    for (let s = 0; s < 4; s++) {
      const events: NewEvent[] = Array.from({ length: 10 }, (_, i) => ({ id: `e${s}_${i}`, type: 'crash.tested', data: { s, i } }));
      ids.push(...events.map((e) => e.id));
      await store.appendToStream(`crash-${s}`, events, { expectedVersion: 'no_stream' });
    }
    const dir = mkdtempSync(join(tmpdir(), 'eventbench-test-cc-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const recordFile = join(dir, 'handled.txt');
    const recorded = () => {
      try {
        return readFileSync(recordFile, 'utf8').split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };

    const consumer = await startConsumerProcess({
      command: process.execPath,
      args: ['--import', 'tsx', FIXTURE, backend, url(), namespace, 'crash', 'crashy', recordFile, '40', '10'],
      cwd: ROOT,
      label: `test consumer ${backend}`,
    });
    cleanups.push(() => consumer.stop());
    expect(await waitFor(() => consumer.handled.length >= 5, 30_000)).toBe(true);

    const crash = await consumer.crash();
    expect(crash.inFlight).toHaveLength(1); // killed between a handler's start and its end
    expect(isAlive(crash.pid)).toBe(false);
    expect(consumer.state).toBe('down');
    const before = consumer.handled.length;
    expect(before).toBeLessThan(ids.length);

    await consumer.restart();
    expect(consumer.pid).not.toBe(crash.pid);
    expect(await waitFor(() => ids.every((id) => recorded().includes(id)), 30_000)).toBe(true);
    // The delivery the first process died on was never acknowledged: the restarted one handled it.
    expect(consumer.handled.slice(before)).toContain(crash.inFlight[0]);
    expect(new Set(recorded())).toEqual(new Set(ids));

    await consumer.stop();
    await consumer.stop();
    expect(consumer.state).toBe('stopped');
    await expect(consumer.restart()).rejects.toThrow(/stopped for good/);
  });
});

describe('consumer process lifecycle', () => {
  it('a child that exits before it is ready is reported with its stderr, and nothing is left running', async () => {
    const attempt = startConsumerProcess({ command: process.execPath, args: ['-e', 'process.stderr.write("no such backend\\n"); process.exit(2)'], label: 'bad consumer' });
    await expect(attempt).rejects.toThrow(/bad consumer exited before it was ready \(2\): no such backend/);
  });
});
