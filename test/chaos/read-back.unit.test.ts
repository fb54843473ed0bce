import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/core/event-store.ts';
import { readBack } from '../../src/runners/chaos/read-back.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { uniqueName } from '../support/servers.ts';
import { unavailableAtFirst } from '../support/unavailable-store.ts';

describe('chaos read-back', () => {
  it('reads again while the store answers unavailable, within its bound', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('rb') });
    await store.appendToStream('chaos-1', [{ id: 'e1', type: 'e', data: {} }, { id: 'e2', type: 'e', data: {} }]);
    const pages = [];
    for await (const page of readBack(unavailableAtFirst(store, 2), { categories: ['chaos'] })) pages.push(...page);
    expect(pages).toHaveLength(2);
  });

  it('gives up after the bound with the store error', async () => {
    const store = await createMemoryStore({ namespace: uniqueName('rb') });
    const read = async () => {
      for await (const _ of readBack(unavailableAtFirst(store, 100), { categories: ['chaos'], retryUnavailableMs: 600 })) void _;
    };
    await expect(read()).rejects.toBeInstanceOf(StoreUnavailableError);
  });
});
