/**
 * The JetStream streams a store writes to, created on first use and once per process: one per category
 * (when its first event is appended or it is first subscribed to) and the namespace's dead-letter stream.
 */
import type { JetStreamManager } from '@nats-io/jetstream';
import { ConfigError } from '../../core/event-store.ts';
import type { JetStreamNames } from './naming.ts';
import type { JetStreamSettings } from './settings.ts';
import { categoryStreamConfig, deadLetterStreamConfig, ensureStream } from './streams.ts';

export interface CategoryStreams {
  /** Categories whose stream exists: an append checks this set, not even awaiting a settled promise. */
  readonly created: ReadonlySet<string>;
  /** Creates the category's stream unless this process did already (idempotent on the server as well). */
  ensure(category: string): Promise<void>;
  /** The category's stream went away (deleted behind our back): the next `ensure` creates it again. */
  forget(category: string): void;
  ensureDeadLetters(): Promise<void>;
}

export function createCategoryStreams(jsm: JetStreamManager, names: JetStreamNames, settings: JetStreamSettings, atomic: boolean): CategoryStreams {
  const ready = new Map<string, Promise<void>>();
  const created = new Set<string>();
  let deadLettersReady: Promise<void> | undefined;

  async function createCategory(category: string): Promise<void> {
    const cfg = categoryStreamConfig(names, category, settings, atomic);
    const { differences } = await ensureStream(jsm, cfg, `category ${category}`);
    // The declared idempotency window must be the one the server applies: refuse a stream that differs.
    const window = differences.find((d) => d.field === 'duplicate_window');
    if (window) {
      throw new ConfigError(
        `JetStream stream ${cfg.name} exists with duplicate window ${Number(window.server) / 1e6} ms, settings say ${settings.duplicateWindowMs} ms: use another namespace or the same duplicateWindowMs`,
      );
    }
  }

  return {
    created,
    ensure(category) {
      let done = ready.get(category);
      if (!done) {
        done = createCategory(category).then(
          () => void created.add(category),
          (err) => {
            ready.delete(category);
            throw err;
          },
        );
        ready.set(category, done);
      }
      return done;
    },
    forget(category) {
      ready.delete(category);
      created.delete(category);
    },
    ensureDeadLetters() {
      deadLettersReady ??= ensureStream(jsm, deadLetterStreamConfig(names, settings), 'eventbench dead letters').then(
        () => undefined,
        (err) => {
          deadLettersReady = undefined;
          throw err;
        },
      );
      return deadLettersReady;
    },
  };
}
