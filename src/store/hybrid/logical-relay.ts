/**
 * The logical-decoding relay (docs/hybrid.md §Relay modes): change data capture of the `events` table
 * through a `pgoutput` replication slot (npm `pg-logical-replication`), published to JetStream, no polling.
 *
 * Why the events table and not the outbox: an events row is the whole envelope (metadata, timestamps,
 * correlation), so nothing is read back per batch; the outbox rows are still marked published afterwards,
 * so the relay-lag metric and a later switch to the polling relay stay right.
 *
 * Lifecycle: eventbench creates the publication and the slot (`eventbench_<schema>_relay`) when the relay
 * starts and drops the slot when it stops, so no slot is left to hold WAL back after a run. What was
 * committed before the slot existed is still in the outbox: the start drains it through the polling relay
 * once (an event caught by both is published twice and JetStream keeps one). The slot position is
 * acknowledged only for transactions whose events JetStream acknowledged, so a relay killed in between
 * re-reads them from the slot (or, the slot gone, from the outbox). Only one process reads a slot: a second
 * logical relay on the same schema waits, retrying each second, until the first stops.
 */
import pg from 'pg';
import { LogicalReplicationService, PgoutputPlugin } from 'pg-logical-replication';
import type { RecordedEvent } from '../../core/event-store.ts';
import { createOutboxRelay, toRecorded, type EventRow } from '../postgres/index.ts';
import type { RelayPublisher } from './jetstream-sink.ts';

export interface LogicalRelayOptions {
  pgUrl: string;
  schema: string;
  publisher: RelayPublisher;
  /** Events per JetStream batch (default 100). */
  batchSize?: number;
  /** Wait after a failed publish before retrying it (default 1000 ms). */
  retryDelayMs?: number;
}

export interface LogicalRelay {
  wake(): void;
  published(): number;
  close(): Promise<void>;
}

/** Events decoded but not yet acknowledged by JetStream; beyond this the slot's stream is paused. */
const MAX_BUFFERED = 10_000;
/** How long close() waits for the server to release the slot (see `dropSlot`). */
const SLOT_RELEASE_MS = 5_000;

/** Slot and publication name: at most 63 characters (PostgreSQL's NAMEDATALEN), so a long schema is cut. */
export function slotName(schema: string): string {
  return `${`eventbench_${schema.toLowerCase()}`.slice(0, 57)}_relay`;
}

/** A decoded `events` row (pgoutput hands bigint as text) as the store reads it back. */
function rowToEvent(row: Record<string, unknown>): RecordedEvent {
  return toRecorded({ ...(row as unknown as EventRow), position: Number(row.position), version: Number(row.version) });
}

export function startLogicalRelay(options: LogicalRelayOptions): LogicalRelay {
  const { schema, publisher } = options;
  const batchSize = options.batchSize ?? 100;
  const retryDelayMs = options.retryDelayMs ?? 1_000;
  const slot = slotName(schema);
  const admin = new pg.Pool({ connectionString: options.pgUrl, max: 1, application_name: 'eventbench-logical-relay' });
  let service: LogicalReplicationService | undefined;
  let stopping = false;
  let published = 0;
  let holdsSlot = false;

  /** Decoded events waiting for JetStream, and the commit LSNs they end. */
  const buffer: RecordedEvent[] = [];
  const commits: { upTo: number; lsn: string }[] = [];
  let seen = 0; // events ever decoded
  let done = 0; // events ever acknowledged by JetStream
  let flushing: Promise<void> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      retryTimer = setTimeout(resolve, ms);
    });

  async function flush(): Promise<void> {
    while (buffer.length > 0 && !stopping) {
      const batch = buffer.slice(0, batchSize);
      try {
        await publisher.publish(batch);
        await admin.query(`UPDATE "${schema}".outbox SET published = true, published_at = now(), attempts = attempts + 1, last_error = NULL
                            WHERE id = ANY($1::text[]) AND NOT published`, [batch.map((e) => e.id)]);
      } catch {
        // JetStream or PostgreSQL away: keep the batch, try again (the slot keeps everything meanwhile).
        await sleep(retryDelayMs);
        continue;
      }
      buffer.splice(0, batch.length);
      done += batch.length;
      published += batch.length;
      let lsn: string | undefined;
      while (commits.length > 0 && commits[0]!.upTo <= done) lsn = commits.shift()!.lsn;
      if (lsn) await service?.acknowledge(lsn).catch(() => {});
    }
  }

  const kick = (): Promise<void> => (flushing ??= flush().finally(() => (flushing = undefined)));

  async function ensureSlot(): Promise<void> {
    const pub = slot;
    await admin.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = '${pub}') THEN
          CREATE PUBLICATION ${pub} FOR TABLE "${schema}".events WITH (publish = 'insert');
        END IF;
      END $$`);
    const { rows } = await admin.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
    if (rows.length === 0) {
      await admin.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]).catch((err: pg.DatabaseError) => {
        if (err.code !== '42710') throw err; // created meanwhile by another relay
      });
    }
  }

  /** What was committed before the slot: the outbox rows still unpublished, once, through the polling relay. */
  async function drainOutbox(): Promise<void> {
    const relay = createOutboxRelay({
      pgUrl: options.pgUrl,
      schema,
      batchSize,
      listen: false,
      autoStart: false,
      applicationName: 'eventbench-logical-relay-drain',
      sink: { publish: async (rows) => void (await publisher.publish(rows.map((r) => r.event))) },
    });
    try {
      for (let round = 0; round < 1_000_000 && !stopping; round++) {
        if ((await relay.runOnce()) < batchSize) break;
      }
    } finally {
      await relay.close();
    }
  }

  async function run(): Promise<void> {
    while (!stopping) {
      try {
        await ensureSlot();
        const s = new LogicalReplicationService(
          { connectionString: options.pgUrl, application_name: 'eventbench-logical-relay' },
          { acknowledge: { auto: false, timeoutSeconds: 10 }, flowControl: { enabled: true } },
        );
        service = s;
        s.on('data', async (lsn: string, msg: { tag: string; relation?: { name: string; schema: string }; new?: Record<string, unknown>; commitEndLsn?: string | null }) => {
          if (msg.tag === 'insert' && msg.relation?.schema === schema && msg.relation.name === 'events' && msg.new) {
            buffer.push(rowToEvent(msg.new));
            seen++;
          } else if (msg.tag === 'commit') {
            const commitLsn = msg.commitEndLsn ?? lsn;
            if (seen === done && commits.length === 0) {
              // Nothing of ours waiting (a transaction without events): confirm it at once, so an idle
              // relay's slot does not hold WAL back.
              await s.acknowledge(commitLsn).catch(() => {});
              return;
            }
            commits.push({ upTo: seen, lsn: commitLsn });
            const flushed = kick();
            // Backpressure: with JetStream away the slot keeps the WAL, not this process's memory.
            if (buffer.length >= MAX_BUFFERED) await flushed;
          }
        });
        s.on('error', () => {});
        s.on('start', () => {
          holdsSlot = true;
          void drainOutbox().catch(() => {});
        });
        const plugin = new PgoutputPlugin({ protoVersion: 1, publicationNames: [slot] });
        await s.subscribe(plugin, slot);
      } catch {
        // Slot in use by another relay (55006), server away, or the stream ended: wait and try again.
      }
      if (!stopping) await sleep(retryDelayMs);
    }
  }

  /**
   * Ours: dropped, so no slot outlives the run and holds WAL back. The server marks the slot inactive a
   * moment after the replication connection ends (when its walsender exits), so a drop right after
   * `stop()` can find it still active and drop nothing (a full test run left the slot so): try again
   * for up to SLOT_RELEASE_MS. A slot still active after that belongs to another relay that took it
   * over, which drops it when it stops.
   */
  async function dropSlot(): Promise<void> {
    const deadline = Date.now() + SLOT_RELEASE_MS;
    const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 50));
    try {
      for (;;) {
        const { rows } = await admin.query<{ active: boolean }>('SELECT active FROM pg_replication_slots WHERE slot_name = $1', [slot]);
        if (rows.length === 0 || Date.now() >= deadline) return;
        if (rows[0]!.active) await pause();
        // Refused (taken over between the two queries: 55006): the next round sees it active.
        else await admin.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]).catch(pause);
      }
    } catch {
      // The server is away: nothing to drop it on.
    }
  }

  const running = run();
  let closing: Promise<void> | undefined;
  return {
    wake: () => void kick(),
    published: () => published,
    close() {
      closing ??= (async () => {
        stopping = true;
        clearTimeout(retryTimer);
        await service?.stop().catch(() => {});
        await running;
        await flushing?.catch(() => {});
        if (holdsSlot) await dropSlot();
        await admin.end().catch(() => {});
      })();
      return closing;
    },
  };
}
