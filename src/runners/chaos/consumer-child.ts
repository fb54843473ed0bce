/**
 * The chaos run's consumer, in its own process so that `consumer_crash` can SIGKILL it in mid-batch
 * (src/runners/chaos/consumer-crash.ts). It opens the durable subscription through `startConsumer`, which
 * records every delivery and effect in this process's own history file (`flush: 'every-op'`: a SIGKILL
 * must not take buffered lines with it) on the run's clock; the run merges the files with
 * `replayHistory`. On stdout it speaks consumer-crash.ts's line protocol: `ready`, `handling <id>`,
 * `handled <id>`. SIGTERM closes the subscription and the store, then exits 0.
 *
 * Usage: node --import tsx consumer-child.ts '<ConsumerChildArgs as JSON>'
 */
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createStore } from '../../store/index.ts';
import { startConsumer } from './clients.ts';
import { createHistoryWriter, epochClock } from './history.ts';

export interface ConsumerChildArgs {
  backend: 'postgres' | 'jetstream';
  /** The store URL (through the fault proxy). */
  url: string;
  namespace: string;
  category: string;
  subscription: string;
  /** Directory for this process's history file, `consumer-<pid>.jsonl`. */
  historyDir: string;
  /** The run's start (epoch ms): the history's times are ns since then, as the parent's. */
  originEpochMs: number;
  handleMs: number;
  /** Redelivery of what a dead consumer held, and the PostgreSQL poll fallback. */
  ackWaitMs: number;
  /** Extra store settings, the same as the writers' (e.g. `replicas: 3` on the replicated topology). */
  settings?: Record<string, unknown>;
}

const args = JSON.parse(process.env.EVENTBENCH_CONSUMER_CHILD_ARGS ?? '{}') as ConsumerChildArgs; // CONSUMER_CHILD_ARGS_ENV
const store = await createStore(args.backend, {
  ...(args.backend === 'postgres' ? { pgUrl: args.url, settings: { pollIntervalMs: 200, connectTimeoutMs: 2_000, ...args.settings } } : { natsUrl: args.url, settings: { ...args.settings } }),
  namespace: args.namespace,
});
const history = createHistoryWriter({ path: join(args.historyDir, `consumer-${process.pid}.jsonl`), clock: epochClock(args.originEpochMs), flush: 'every-op' });
const consumer = await startConsumer({
  store,
  history,
  subscription: args.subscription,
  category: args.category,
  // One name for the consumer across restarts would pair a dead process's open `handle` invoke with the
  // next one's; the PID keeps each incarnation apart, as Jepsen's fresh process numbers do.
  process: `c${process.pid}`,
  effect: async (event) => {
    process.stdout.write(`handling ${event.id}\n`);
    if (args.handleMs > 0) await delay(args.handleMs);
    process.stdout.write(`handled ${event.id}\n`);
  },
  subscriptionOptions: { ackWaitMs: args.ackWaitMs, batchSize: 16, maxInFlight: 16 },
});
let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void consumer
    .close()
    .then(() => store.close())
    .catch(() => {})
    .finally(() => {
      history.close();
      process.exit(0);
    });
});
// SIGINT comes from a terminal's Ctrl-C to the whole foreground group: the parent decides when we stop.
process.on('SIGINT', () => {});
process.stdout.write('ready\n');
