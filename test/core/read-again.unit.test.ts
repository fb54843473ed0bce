import { describe, expect, it } from 'vitest';
import { ConfigError, StoreUnavailableError } from '../../src/core/event-store.ts';
import { readAllAgainWhileUnavailable } from '../../src/core/read-again.ts';
import { startServe } from '../../src/runners/serve/run.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { uniqueName } from '../support/servers.ts';
import { unavailableAtFirst } from '../support/unavailable-store.ts';

const ev = (id: string) => ({ id, type: 'document.uploaded', data: { n: id } });

describe('reading again while the store answers unavailable (a replicated stream electing its leader)', () => {
  it('returns the page once the store answers, after reading again every 500 ms', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('ra') });
    await store.appendToStream('document-1', [ev('a'), ev('b')]);
    const flaky = unavailableAtFirst(store, 2);
    const started = Date.now();
    expect((await readAllAgainWhileUnavailable(flaky, { category: 'document' })).map((e) => e.id)).toEqual(['a', 'b']);
    expect(flaky.reads()).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await store.close();
  });

  it('gives up with the store error after its bound; other errors are not read again', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('ra') });
    await expect(readAllAgainWhileUnavailable(unavailableAtFirst(store, 100), {}, { retryMs: 600 })).rejects.toBeInstanceOf(StoreUnavailableError);
    const bad = unavailableAtFirst(store, 0);
    await expect(readAllAgainWhileUnavailable(bad, { limit: -1 })).rejects.toBeInstanceOf(ConfigError);
    expect(bad.reads()).toBe(1);
    await store.close();
  });

  it('an abort ends the wait at once', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('ra') });
    const abort = new AbortController();
    const started = Date.now();
    setTimeout(() => abort.abort(), 100);
    await expect(readAllAgainWhileUnavailable(unavailableAtFirst(store, 100), {}, { signal: abort.signal })).rejects.toThrow(/abort/i);
    expect(Date.now() - started).toBeLessThan(450);
    await store.close();
  });

  it("serve's catch-up reads again instead of failing to start", async () => {
    const store = await createMemoryStore({ namespace: uniqueName('ra') });
    await store.appendToStream('document-paperless_1', [ev('d1')]);
    const serve = await startServe(unavailableAtFirst(store, 2), { host: '127.0.0.1', port: 0, subscription: uniqueName('sub') });
    try {
      expect(serve.caughtUp).toBe(1);
    } finally {
      await serve.close();
      await store.close();
    }
  });
});
