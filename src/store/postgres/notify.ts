/**
 * Wake-ups over LISTEN/NOTIFY. Appends do not NOTIFY inside their own transaction: PostgreSQL serialises
 * the commits of notifying transactions on one global lock (async.c PreCommit_Notify), which would turn
 * 16 concurrent appends back into one-at-a-time fsyncs. Instead a store sends one coalesced NOTIFY after
 * commits (at most one in flight; `synchronous_commit = off` for it, it carries no data). Listeners treat a
 * notification as "look now"; a polling fallback covers writers that never notify and a lost connection.
 */
import pg from 'pg';
import { quoteIdent } from './connection.ts';

/**
 * Sends coalesced notifications on a channel after commits: at once when the store was quiet, otherwise
 * at most one per `minIntervalMs` (trailing, so the last commit of a burst is always announced). Each
 * NOTIFY is a small transaction of its own (with an xid and a commit record); one per append measurably
 * slowed 16 concurrent writers on 2 cores, one per 100 ms did not (bench/postgres-append.ts: 0.82x of raw at 20 ms, 0.95x at 100 ms).
 */
export class CommitNotifier {
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private dirty = false;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly minIntervalMs = 100,
  ) {}

  /** Called after an append committed. Cheap: no round trip of its own on the append path. */
  notify(): void {
    if (this.closed) return;
    if (this.inFlight || this.timer) {
      this.dirty = true;
      return;
    }
    const wait = this.lastSent + this.minIntervalMs - Date.now();
    if (wait <= 0) this.send();
    else this.schedule(wait);
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, ms);
  }

  private send(): void {
    this.dirty = false;
    this.lastSent = Date.now();
    this.inFlight = this.pool
      .query(`SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, '')`, [this.channel])
      .then(
        () => {},
        () => {}, // listeners poll as well; a store that lost its server reports that on the next append
      )
      .finally(() => {
        this.inFlight = undefined;
        if (this.dirty && !this.closed) this.schedule(Math.max(0, this.lastSent + this.minIntervalMs - Date.now()));
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.inFlight;
  }
}

/** One LISTEN connection per store, shared by its subscriptions and relays; reconnects while anyone listens. */
export class ChangeFeed {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<() => void>();
  private closed = false;

  constructor(
    private readonly pgUrl: string,
    private readonly channel: string,
    private readonly connectTimeoutMs: number,
  ) {}

  /** Calls `onChange` on every notification (and after a reconnect, when some may have been missed). */
  listen(onChange: () => void): () => void {
    this.listeners.add(onChange);
    this.ensureConnected();
    return () => {
      this.listeners.delete(onChange);
    };
  }

  /** Resolves once LISTEN is active (or failed: then the polling fallback is all there is). */
  ready(): Promise<void> {
    return this.connecting ?? Promise.resolve();
  }

  private ensureConnected(): void {
    if (this.closed || this.client || this.connecting) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.pgUrl, connectionTimeoutMillis: this.connectTimeoutMs, application_name: 'eventbench-listen' });
    client.on('notification', (msg) => {
      if (msg.channel === this.channel) this.emit();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch {
      await client.end().catch(() => {});
      this.scheduleReconnect();
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.client = client;
    this.emit(); // anything committed while we were not listening
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => {});
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.listeners.size === 0 || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.ensureConnected();
    }, 1_000);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.listeners.clear();
    await this.connecting?.catch(() => {});
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}

/** A wake-up a loop can wait on: `wake()` before `wait()` is not lost. */
export class Waker {
  private pending = false;
  private resolve: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  wake(): void {
    if (this.resolve) {
      const r = this.resolve;
      this.resolve = undefined;
      clearTimeout(this.timer);
      r();
    } else {
      this.pending = true;
    }
  }

  /** Resolves on `wake()` or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.timer = setTimeout(() => {
        this.resolve = undefined;
        resolve();
      }, ms);
    });
  }
}
