/**
 * The JetStream event store: the parts put together, and its lifecycle. Mapping and reasoning: README.md
 * in this folder. One concept per file:
 * - connection.ts: the NATS connection, the server version (which decides capabilities);
 * - streams.ts / categories.ts: stream configurations and their one creation path (shared with init.ts);
 * - stream-refs.ts: contract stream -> subject and JetStream stream, and the (version, seq) tip;
 * - append.ts: optimistic concurrency on `Nats-Expected-Last-Subject-Sequence`, idempotency on `Nats-Msg-Id`;
 * - reads.ts / cursor.ts: readStream, readAll, the one ordered-consumer read;
 * - subscription.ts / dead-letters.ts: durable consumers and their dead letters; stats.ts: storage.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  CapabilityError,
  ConfigError,
  closedStoreError,
  type Capabilities,
  type EventStore,
  type Subscription,
} from '../../core/event-store.ts';
import { checkCategory, checkSubscriptionName } from '../../core/validate.ts';
import { subjectToken } from '../../core/subjects.ts';
import { createAppend } from './append.ts';
import { createCategoryStreams } from './categories.ts';
import { connectNats, serverAtLeast } from './connection.ts';
import { readDeadLetters } from './dead-letters.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';
import { jetStreamNames, type JetStreamNames } from './naming.ts';
import { createReads } from './reads.ts';
import { parseJetStreamSettings, type JetStreamSettings } from './settings.ts';
import { storageStats } from './stats.ts';
import { createStreamRefs } from './stream-refs.ts';
import { openSubscription, type SubscriptionDeps } from './subscription.ts';


export interface JetStreamStoreOptions {
  natsUrl?: string;
  namespace?: string;
  settings?: Record<string, unknown>;
}

export async function createJetStreamStore(options: JetStreamStoreOptions = {}): Promise<EventStore> {
  const settings = parseJetStreamSettings(options.settings);
  const names = jetStreamNames(options.namespace);
  const nc = await connectNats(options.natsUrl, `eventbench-jetstream-${names.namespace}`);
  try {
    const jsm = await jetstreamManager(nc);
    return assemble(nc, jsm, jetstream(nc, { timeout: settings.publishTimeoutMs }), names, settings);
  } catch (err) {
    await nc.close().catch(() => {});
    throw translateReadError(err);
  }
}

function jetStreamCapabilities(nc: NatsConnection, settings: JetStreamSettings): Capabilities {
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  return {
    // nats-server 2.12 added atomic batch publish; 2.9-2.11 can only chain single publishes.
    atomicMultiAppend: settings.atomicBatch && serverAtLeast(nc.info?.version, 2, 12),
    globalOrder: false,
    idempotencyWindowMs: settings.duplicateWindowMs,
    competingConsumers: true,
    orderedCompetingConsumers: false,
    // Headers (msg id, version, expectations) travel in the same max_payload: keep 1 KB for them.
    maxEventBytes: maxPayload - 1024,
  };
}

function assemble(nc: NatsConnection, jsm: JetStreamManager, js: JetStreamClient, names: JetStreamNames, settings: JetStreamSettings): EventStore {
  const serverVersion = nc.info?.version ?? 'unknown';
  const capabilities = jetStreamCapabilities(nc, settings);
  const categories = createCategoryStreams(jsm, names, settings, capabilities.atomicMultiAppend);
  const refs = createStreamRefs(jsm, names);
  const reads = createReads({ js, jsm, names, settings, refs });
  const subscriptions = new Set<Subscription>();
  let closing: Promise<void> | undefined;

  const ensureOpen = (): void => {
    if (closing) throw closedStoreError('jetstream', names.namespace);
  };
  const appendToStream = createAppend({ js, jsm, refs, categories, settings, capabilities, serverVersion, ensureOpen });

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled([...subscriptions].map((s) => s.close()));
      await reads.close();
      await nc.drain().catch(() => nc.close());
    })();
    return closing;
  };

  const store: EventStore = {
    backend: 'jetstream',
    capabilities,

    async init() {
      ensureOpen();
      await categories.ensureDeadLetters();
    },

    appendToStream,

    async readStream(stream, options) {
      ensureOpen();
      return reads.readStream(stream, options);
    },

    async readAll(options) {
      ensureOpen();
      return reads.readAll(options);
    },

    async streamVersion(stream) {
      ensureOpen();
      return (await refs.readTip(refs.ref(stream))).version;
    },

    async subscribe(name, handler, options = {}) {
      ensureOpen();
      checkSubscriptionName(name);
      if (typeof handler !== 'function') throw new ConfigError(`subscribe ${name}: handler must be a function`);
      if (options.category === undefined) {
        throw new CapabilityError('globalOrder', `subscribe ${name}: JetStream has one stream per category and no order across them: pass options.category`);
      }
      const category = checkCategory(options.category);
      if (options.deadLetter !== undefined) subjectToken(options.deadLetter, 'deadLetter');
      await Promise.all([categories.ensure(category), categories.ensureDeadLetters()]);
      const deps: SubscriptionDeps = {
        nc,
        js,
        jsm,
        jsStream: names.categoryStream(category),
        filter: names.categoryFilter(category),
        deadLetterSubject: names.deadLetterSubject(options.deadLetter ?? name),
        decode: reads.decode,
        publishTimeoutMs: settings.publishTimeoutMs,
        onClosed: (s) => subscriptions.delete(s),
      };
      const sub = await openSubscription(deps, name, handler, options);
      subscriptions.add(sub);
      return sub;
    },

    async deleteSubscription(name, options = {}) {
      ensureOpen();
      checkSubscriptionName(name);
      if (options.category === undefined) {
        throw new CapabilityError('globalOrder', `deleteSubscription ${name}: a subscription's durable consumer lives in its category's stream: pass options.category`);
      }
      const category = checkCategory(options.category);
      if ([...subscriptions].some((s) => s.name === name)) {
        throw new ConfigError(`deleteSubscription ${name}: a consumer of it is still open; close it first`);
      }
      try {
        // The durable consumer is the subscription's whole server-side state; its dead letters stay.
        return await jsm.consumers.delete(names.categoryStream(category), name);
      } catch (err) {
        const code = apiCode(err);
        if (code === JS_ERR.consumerNotFound || code === JS_ERR.streamNotFound) return false;
        throw translateReadError(err);
      }
    },

    async readDeadLetters(subscription) {
      ensureOpen();
      return readDeadLetters({ js, jsm, names, readIdleMs: settings.readIdleMs }, subscription);
    },

    async storageStats() {
      ensureOpen();
      return storageStats(jsm, names);
    },

    close,
    [Symbol.asyncDispose]: close,
  };
  return store;
}
