/**
 * Deliberately broken backends: the memory store with one guarantee switched off. The contract suite
 * must fail on each (test/contract-suite-not-vacuous.unit.test.ts), so it can never pass vacuously.
 * The switches live in the memory store's internal opener, never in its public options.
 */
import { openMemoryStore, type MemoryStoreFaults } from '../../src/store/memory/memory-store.ts';
import { uniqueName } from '../support/servers.ts';
import type { ContractTarget } from './event-store-contract.ts';

/**
 * A contract target over a faulty memory store (one fresh namespace per call), e.g.
 * `{ skipVersionCheck: true }`: every expectedVersion passes, or `{ skipDuplicateCheck: true }`.
 */
export function brokenMemoryTarget(faults: MemoryStoreFaults): ContractTarget {
  const namespace = uniqueName('broken');
  return { open: async () => openMemoryStore({ namespace }, faults) };
}
