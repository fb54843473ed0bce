/**
 * A test OutboxSink: records what it is given, optionally slowly or failing, so tests can check what a
 * relay published and how often. (The JetStream sink of the hybrid topology implements the same interface.)
 */
import type { OutboxRow, OutboxSink } from '../../src/store/postgres/outbox-relay.ts';

export interface RecordingSink extends OutboxSink {
  readonly published: OutboxRow[];
  /** Makes the next `n` publish calls throw. */
  failNext(n: number): void;
}

export function recordingSink(options: { delayMs?: number } = {}): RecordingSink {
  const published: OutboxRow[] = [];
  let failures = 0;
  return {
    published,
    failNext(n: number) {
      failures = n;
    },
    async publish(rows: OutboxRow[]) {
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
      if (failures > 0) {
        failures--;
        throw new Error('sink unavailable (test)');
      }
      published.push(...rows);
    },
  };
}
