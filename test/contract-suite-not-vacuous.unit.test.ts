/**
 * The contract suite must fail on a backend that breaks a guarantee: run its cases against deliberately
 * broken memory stores and assert the cases guarding that guarantee throw (and the others still pass, so
 * the failure is the fault's and not the harness's). And its branches for `false` capabilities and a
 * finite idempotency window must run: a memory store that declares (and enforces) those passes the suite.
 */
import { describe, expect, it } from 'vitest';
import { MEMORY_CAPABILITIES } from '../src/store/memory/index.ts';
import { brokenMemoryTarget, laxMemoryTarget } from './contract/broken-memory-store.ts';
import {
  contractCases,
  runContractCase,
  runEventStoreContract,
  type ContractCase,
} from './contract/event-store-contract.ts';
import { LIMITED_CAPABILITIES, limitedMemoryTarget } from './contract/limited-memory-store.ts';

const CAPABILITIES = MEMORY_CAPABILITIES;

function contractCase(prefix: string): ContractCase {
  const found = contractCases.find((c) => c.name.startsWith(prefix));
  if (!found) throw new Error(`no contract case starting with ${JSON.stringify(prefix)}`);
  return found;
}

describe('the contract suite is not vacuous', () => {
  it('fails the concurrency and expected-version cases on a store without the version check', async () => {
    const target = brokenMemoryTarget({ skipVersionCheck: true });
    await expect(runContractCase(contractCase('of N concurrent appends'), target, CAPABILITIES)).rejects.toThrow(
      /exactly one concurrent append succeeds/,
    );
    await expect(runContractCase(contractCase('expected version:'), target, CAPABILITIES)).rejects.toThrow();
    await expect(runContractCase(contractCase('atomic multi-event append'), target, CAPABILITIES)).rejects.toThrow();
    // The same broken store passes the cases that do not depend on the version check.
    await runContractCase(contractCase('reads back payload'), target, CAPABILITIES);
    await runContractCase(contractCase('readAll:'), target, CAPABILITIES);
  });

  it('fails the duplicate-id case on a store that stores retries twice', async () => {
    const target = brokenMemoryTarget({ skipDuplicateCheck: true });
    await expect(runContractCase(contractCase('an event id already stored'), target, CAPABILITIES)).rejects.toThrow();
    await runContractCase(contractCase('versions are contiguous'), target, CAPABILITIES);
  });

  it('fails the retry / dead-letter case on a store that acknowledges failed handlers', async () => {
    const target = brokenMemoryTarget({ ackFailures: true });
    await expect(
      runContractCase(contractCase('a failing handler is retried'), target, CAPABILITIES, { maxWaitMs: 2000 }),
    ).rejects.toThrow();
    await runContractCase(contractCase('a subscription delivers every event in order'), target, CAPABILITIES);
  });

  it('fails the crash-resume case on a store without durable checkpoints', async () => {
    const target = brokenMemoryTarget({ forgetCheckpoints: true });
    await expect(runContractCase(contractCase('a subscription resumes from its checkpoint'), target, CAPABILITIES)).rejects.toThrow(
      /acknowledged events are not redone/,
    );
    await runContractCase(contractCase('competing consumers'), target, CAPABILITIES);
  });

  it('fails the ordered competing-consumers check on a store that only declares the order', async () => {
    const declared = { ...CAPABILITIES, orderedCompetingConsumers: true };
    await expect(runContractCase(contractCase('competing consumers'), brokenMemoryTarget({}), declared)).rejects.toThrow(
      /handled in version order|never handled concurrently/,
    );
  });

  it('fails the read-options case on a store that takes read options as they come', async () => {
    const target = laxMemoryTarget('readOptions');
    await expect(runContractCase(contractCase('bad read options'), target, CAPABILITIES)).rejects.toThrow(/expected the call to throw/);
    await runContractCase(contractCase('readStream:'), target, CAPABILITIES);
  });

  it('fails the closed-store case on a store that reports use after close as another error', async () => {
    const target = laxMemoryTarget('closedError');
    await expect(runContractCase(contractCase('a closed store refuses'), target, CAPABILITIES)).rejects.toThrow(/StoreUnavailableError/);
    await runContractCase(contractCase('close() and subscription close()'), target, CAPABILITIES);
  });

  it('fails the capability case when the declared capabilities are not what the store has', async () => {
    const target = brokenMemoryTarget({});
    await expect(
      runContractCase(contractCase('declares its capabilities'), target, { ...CAPABILITIES, orderedCompetingConsumers: true }),
    ).rejects.toThrow();
  });
});

// The `false` / finite-window branches of every case, on a store that declares a server's limits.
runEventStoreContract('memory declaring server limits (suite branches)', limitedMemoryTarget(), LIMITED_CAPABILITIES);
