/**
 * The hybrid topology (docs/hybrid.md): PostgreSQL is the store (appends with their outbox rows in one
 * transaction, reads, versions), a relay carries the outbox to JetStream, and subscriptions are JetStream
 * durable consumers on the relayed stream. Composed from the two adapters' public faces
 * (postgres/index.ts, jetstream/index.ts), never their insides.
 *
 * End-to-end latency is the harness's (from the append's intended send time, carried in the event's
 * metadata through the outbox and the relay, to the consumer's handler), as on every backend; the store
 * only wakes its relay at once after its own commits. Commit -> consume is bench/relay.ts's own figure.
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ConfigError,
  closedStoreError,
  type Capabilities,
  type EventStore,
  type Subscription,
} from '../../core/event-store.ts';
import { checkCategory, checkSubscriptionName } from '../../core/validate.ts';
import { subjectToken } from '../../core/subjects.ts';
import {
  JS_ERR,
  apiCode,
  connectNats,
  deadLetterStreamConfig,
  ensureStream,
  jetStreamNames,
  openSubscription,
  parseJetStreamSettings,
  readDeadLetters,
  translateReadError,
  type StreamSpec,
} from '../jetstream/index.ts';
import { createOutboxRelay, createPostgresStore, type OutboxRelay, type PostgresStore } from '../postgres/index.ts';
import { DiscardPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { InitItem } from '../backend.ts';
import type { HybridSettings } from './descriptor.ts';
import { createJetStreamPublisher, type RelayPublisher } from './jetstream-sink.ts';
import { startLogicalRelay } from './logical-relay.ts';
import { decodeRelayed } from './message.ts';
import { hybridNames, type HybridNames } from './naming.ts';
import type { Registry } from 'prom-client';
import { readRelayLag, registerRelayLagMetrics, type RelayLag } from './relay-lag.ts';

export interface HybridStoreOptions {
  pgUrl: string;
  natsUrl?: string;
  /** PostgreSQL schema and JetStream name prefix (default `eventbench`). */
  namespace?: string;
  settings: HybridSettings;
}

export interface HybridStore extends EventStore {
  readonly namespace: string;
  /** Outbox rows waiting for the relay and the oldest one's age (the relay-lag metric). */
  relayLag(): Promise<RelayLag>;
  /** `eventbench init`: the PostgreSQL migrations and the two JetStream streams, each item as found or created. */
  migrate(): Promise<InitItem[]>;
  /** Events the store's own relay published so far (0 with `relay: none`). */
  relayedCount(): number;
  /** Adds the relay-lag gauges, read from this store at scrape time, to `registry` (a load run's `--metrics-port`). */
  registerMetrics(registry: Registry): void;
}

/** Room kept in JetStream's max_payload for headers and the `position` field of the relayed body. */
const HEADER_ROOM = 1024;

function hybridCapabilities(nc: NatsConnection): Capabilities {
  const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
  return {
    atomicMultiAppend: true, // one PostgreSQL statement writes the events and their outbox rows
    globalOrder: true, // PostgreSQL positions; subscriptions read one JetStream stream in relay order
    idempotencyWindowMs: null, // the store's unique event id remembers forever; consumers see JetStream's window
    competingConsumers: true,
    orderedCompetingConsumers: false,
    // An event must fit a JetStream message once relayed, so the smaller of the two limits applies.
    maxEventBytes: Math.min(1024 * 1024, maxPayload - HEADER_ROOM),
  };
}

/** The logical relay reads a replication slot: refused clearly on a server that cannot decode (wal_level below logical). */
async function checkLogicalDecoding(pg: PostgresStore): Promise<void> {
  const { rows } = await pg.pool.query<{ wal_level: string }>('SHOW wal_level');
  const level = rows[0]?.wal_level;
  if (level !== 'logical') {
    throw new ConfigError(
      `hybrid relay "logical" needs wal_level=logical on the PostgreSQL server (it is ${level}): set it in postgresql.conf and restart the server, or use relay "poll"`,
    );
  }
}

function relayedStreamConfig(names: HybridNames, settings: HybridSettings): StreamSpec {
  return {
    name: names.jsStream,
    subjects: [names.allFilter],
    retention: RetentionPolicy.Limits,
    storage: settings.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: settings.replicas,
    duplicate_window: nanos(settings.duplicateWindowMs),
    discard: DiscardPolicy.Old,
  } as StreamSpec;
}

export async function createHybridStore(options: HybridStoreOptions): Promise<HybridStore> {
  const { settings } = options;
  const namespace = options.namespace ?? 'eventbench';
  const names = hybridNames(subjectToken(namespace, 'namespace'));
  const jsNames = jetStreamNames(namespace);
  const nc = await connectNats(options.natsUrl, `eventbench-hybrid-${namespace}`);
  let pgStore: PostgresStore | undefined;
  try {
    const capabilities = hybridCapabilities(nc);
    pgStore = await createPostgresStore({
      pgUrl: options.pgUrl,
      schema: namespace,
      outbox: true,
      maxEventBytes: capabilities.maxEventBytes,
      ...(settings.poolSize !== undefined ? { poolSize: settings.poolSize } : {}),
      ...(settings.connectTimeoutMs !== undefined ? { connectTimeoutMs: settings.connectTimeoutMs } : {}),
      ...(settings.notifyIntervalMs !== undefined ? { notifyIntervalMs: settings.notifyIntervalMs } : {}),
    });
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc, { timeout: settings.publishTimeoutMs });
    return assemble({ nc, jsm, js, pg: pgStore, names, jsNames, settings, capabilities, pgUrl: options.pgUrl });
  } catch (err) {
    await pgStore?.close().catch(() => {});
    await nc.close().catch(() => {});
    throw translateReadError(err);
  }
}

interface Parts {
  nc: NatsConnection;
  jsm: Awaited<ReturnType<typeof jetstreamManager>>;
  js: ReturnType<typeof jetstream>;
  pg: PostgresStore;
  names: HybridNames;
  jsNames: ReturnType<typeof jetStreamNames>;
  settings: HybridSettings;
  capabilities: Capabilities;
  pgUrl: string;
}

/** A relay this store runs, whichever the mode. */
interface RunningRelay {
  wake(): void;
  published(): number;
  close(): Promise<void>;
}

function assemble(p: Parts): HybridStore {
  const { nc, jsm, js, pg, names, jsNames, settings, capabilities } = p;
  const jsSettings = parseJetStreamSettings({ replicas: settings.replicas });
  const publisher: RelayPublisher = createJetStreamPublisher(js, names, settings.publishTimeoutMs);
  const subscriptions = new Set<Subscription>();
  let streamsReady: Promise<InitItem[]> | undefined;
  let relay: RunningRelay | undefined;
  let closing: Promise<void> | undefined;

  const ensureOpen = (): void => {
    if (closing) throw closedStoreError('hybrid', names.namespace);
  };

  /** The relayed stream and the dead-letter stream, once per store. */
  const ensureStreams = (): Promise<InitItem[]> =>
    (streamsReady ??= (async () => {
      const { item, differences } = await ensureStream(jsm, relayedStreamConfig(names, settings), 'hybrid relayed events');
      const window = differences.find((d) => d.field === 'duplicate_window');
      if (window) {
        throw new ConfigError(
          `JetStream stream ${names.jsStream} exists with duplicate window ${Number(window.server) / 1e6} ms, settings say ${settings.duplicateWindowMs} ms: use another namespace or the same duplicateWindowMs`,
        );
      }
      const deadLetters = await ensureStream(jsm, deadLetterStreamConfig(jsNames, jsSettings), 'eventbench dead letters');
      return [item, deadLetters.item];
    })().catch((err) => {
      streamsReady = undefined;
      throw err;
    }));

  function startRelay(): RunningRelay | undefined {
    if (settings.relay === 'none') return undefined;
    if (settings.relay === 'logical') {
      return startLogicalRelay({ pgUrl: p.pgUrl, schema: names.namespace, publisher, batchSize: settings.relayBatchSize });
    }
    const outbox: OutboxRelay = createOutboxRelay({
      pgUrl: p.pgUrl,
      schema: names.namespace,
      batchSize: settings.relayBatchSize,
      pollIntervalMs: settings.relayPollIntervalMs,
      applicationName: 'eventbench-hybrid-relay',
      sink: { publish: async (rows) => void (await publisher.publish(rows.map((r) => r.event))) },
    });
    return { wake: () => outbox.wake(), published: () => outbox.stats.published, close: () => outbox.close() };
  }

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.allSettled([...subscriptions].map((s) => s.close()));
      await relay?.close().catch(() => {});
      await pg.close();
      await nc.drain().catch(() => nc.close());
    })();
    return closing;
  };

  const store: HybridStore = {
    backend: 'hybrid',
    capabilities,
    namespace: names.namespace,

    async init() {
      ensureOpen();
      await pg.init();
      await ensureStreams();
      if (settings.relay === 'logical' && !relay) await checkLogicalDecoding(pg);
      relay ??= startRelay();
    },

    async appendToStream(stream, events, options) {
      ensureOpen();
      const result = await pg.appendToStream(stream, events, options);
      if (!result.duplicate) relay?.wake();
      return result;
    },

    async readStream(stream, options) {
      ensureOpen();
      return pg.readStream(stream, options);
    },

    async readAll(options) {
      ensureOpen();
      return pg.readAll(options);
    },

    async streamVersion(stream) {
      ensureOpen();
      return pg.streamVersion(stream);
    },

    async subscribe(name, handler, options = {}) {
      ensureOpen();
      checkSubscriptionName(name);
      if (typeof handler !== 'function') throw new ConfigError(`subscribe ${name}: handler must be a function`);
      const category = options.category === undefined ? undefined : checkCategory(options.category);
      if (options.deadLetter !== undefined) subjectToken(options.deadLetter, 'deadLetter');
      await ensureStreams();
      const filter = category === undefined ? names.allFilter : names.categoryFilter(category);
      // One durable consumer per name in the one relayed stream: a name already used for another category
      // would silently keep its old filter, so it is refused.
      const existing = await jsm.consumers.info(names.jsStream, name).catch((err) => {
        if (apiCode(err) === JS_ERR.consumerNotFound) return undefined;
        throw translateReadError(err);
      });
      if (existing && existing.config.filter_subject !== filter) {
        throw new ConfigError(
          `subscribe ${name}: the subscription exists for ${existing.config.filter_subject ?? 'every category'}, not ${filter}; use another name or deleteSubscription first`,
        );
      }
      const sub = await openSubscription(
        {
          nc,
          js,
          jsm,
          jsStream: names.jsStream,
          filter,
          deadLetterSubject: jsNames.deadLetterSubject(options.deadLetter ?? name),
          decode: (m) => decodeRelayed(names, m),
          publishTimeoutMs: settings.publishTimeoutMs,
          onClosed: (s) => subscriptions.delete(s),
        },
        name,
        handler,
        options,
      );
      subscriptions.add(sub);
      return sub;
    },

    async deleteSubscription(name, options = {}) {
      ensureOpen();
      checkSubscriptionName(name);
      if (options.category !== undefined) checkCategory(options.category);
      if ([...subscriptions].some((s) => s.name === name)) {
        throw new ConfigError(`deleteSubscription ${name}: a consumer of it is still open; close it first`);
      }
      try {
        return await jsm.consumers.delete(names.jsStream, name);
      } catch (err) {
        const code = apiCode(err);
        if (code === JS_ERR.consumerNotFound || code === JS_ERR.streamNotFound) return false;
        throw translateReadError(err);
      }
    },

    async readDeadLetters(subscription) {
      ensureOpen();
      return readDeadLetters({ js, jsm, names: jsNames, readIdleMs: 5_000 }, subscription);
    },

    async storageStats() {
      ensureOpen();
      const stats = await pg.storageStats();
      let jsBytes = 0;
      try {
        jsBytes = (await jsm.streams.info(names.jsStream)).state.bytes;
      } catch (err) {
        if (apiCode(err) !== JS_ERR.streamNotFound) throw translateReadError(err);
      }
      // The events live twice: in PostgreSQL (the store) and in the relayed JetStream stream.
      return { events: stats.events, bytes: stats.bytes + jsBytes, detail: { ...stats.detail, jetstream_bytes: jsBytes } };
    },

    async relayLag() {
      ensureOpen();
      return readRelayLag(pg.pool, names.namespace);
    },

    relayedCount: () => relay?.published() ?? 0,

    registerMetrics: (registry) => registerRelayLagMetrics(registry, () => store.relayLag(), 'hybrid'),

    async migrate() {
      ensureOpen();
      const report = await pg.migrate();
      return [...report.items, ...(await ensureStreams())];
    },

    close,
    [Symbol.asyncDispose]: close,
  };
  return store;
}
