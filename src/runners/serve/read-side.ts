/**
 * The read side of `eventbench serve` (docs/event-api.md): a bounded window of the most recent document
 * events and the counters behind `GET /stats`. It is fed by the start-up catch-up and then by the durable
 * subscription; both may hand it the same event (the subscription resumes from its checkpoint, which can
 * lie before the catch-up's end), so it skips an event id it has seen among the last `WINDOW_SIZE`.
 *
 * Memory is bounded whatever the store holds: the window keeps `WINDOW_SIZE` events, the 24-hour count
 * keeps one bucket per minute (1,440), the counters one number per system and type.
 */
import type { RecordedEvent } from '../../core/event-store.ts';

/** Events kept for `/events` and its filters (the answer's `limit` is at most `MAX_LIMIT`). */
export const WINDOW_SIZE = 10_000;
export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1_000;

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

/** The design's `DocumentEvent` as served: the event's `data`, which the documents workload writes verbatim. */
export type ServedEvent = Record<string, unknown> & { eventId?: string; eventType?: string; system?: string; timestamp?: string };

export interface ServeStats {
  total: number;
  last24h: number;
  bySystem: Record<string, number>;
  byType: Record<string, number>;
}

/** `document.uploaded` -> `uploaded`: the short names `/stats` and `/events/type/:type` use. */
export function shortType(type: string): string {
  const dot = type.lastIndexOf('.');
  return dot < 0 ? type : type.slice(dot + 1);
}

interface WindowEntry {
  id: string;
  position: number;
  system: string;
  type: string;
  served: ServedEvent;
}

export class ReadSide {
  /** Ring buffer, oldest first from `head`. */
  private readonly ring: (WindowEntry | undefined)[] = new Array(WINDOW_SIZE);
  private head = 0;
  private size = 0;
  private readonly ids = new Set<string>();
  private total = 0;
  private readonly bySystem: Record<string, number> = {};
  private readonly byType: Record<string, number> = {};
  /** Events per minute of their timestamp (minute number -> count), pruned to the last 24 hours. */
  private readonly minutes = new Map<number, number>();
  private readonly listeners = new Set<(event: ServedEvent) => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Adds an event; false when it was already seen (a redelivery or a catch-up overlap). */
  apply(event: RecordedEvent): boolean {
    if (this.ids.has(event.id)) return false;
    const data = (event.data && typeof event.data === 'object' ? event.data : {}) as ServedEvent;
    const system = typeof data.system === 'string' ? data.system : 'unknown';
    const type = shortType(event.type);
    const entry: WindowEntry = { id: event.id, position: event.position, system, type, served: data };
    if (this.size === WINDOW_SIZE) {
      const old = this.ring[this.head]!;
      this.ids.delete(old.id);
      this.ring[this.head] = entry;
      this.head = (this.head + 1) % WINDOW_SIZE;
    } else {
      this.ring[(this.head + this.size) % WINDOW_SIZE] = entry;
      this.size++;
    }
    this.ids.add(event.id);
    this.total++;
    this.bySystem[system] = (this.bySystem[system] ?? 0) + 1;
    this.byType[type] = (this.byType[type] ?? 0) + 1;
    const at = Date.parse(event.timestamp);
    // Only timestamps within a day of now can ever count for `last24h`: the others need no bucket.
    if (Number.isFinite(at) && Math.abs(at - this.now()) <= DAY_MS) {
      const minute = Math.floor(at / MINUTE_MS);
      this.minutes.set(minute, (this.minutes.get(minute) ?? 0) + 1);
    }
    for (const l of this.listeners) l(data);
    return true;
  }

  /** The most recent events, newest first, optionally of one system or short type; at most `limit`. */
  recent(limit: number, filter: { system?: string; type?: string } = {}): ServedEvent[] {
    const out: ServedEvent[] = [];
    for (let i = this.size - 1; i >= 0 && out.length < limit; i--) {
      const e = this.ring[(this.head + i) % WINDOW_SIZE]!;
      if (filter.system !== undefined && e.system !== filter.system) continue;
      if (filter.type !== undefined && e.type !== filter.type) continue;
      out.push(e.served);
    }
    return out;
  }

  /**
   * Below this position every event was applied and has left the id set: a redelivery from there is
   * recognised by position, not id. 0 while the window has never overflowed (the id set holds them all).
   */
  floor(): number {
    return this.size === WINDOW_SIZE ? this.ring[this.head]!.position : 0;
  }

  stats(): ServeStats {
    const now = this.now();
    const from = Math.floor((now - DAY_MS) / MINUTE_MS);
    let last24h = 0;
    for (const [minute, n] of this.minutes) {
      if (minute < from) this.minutes.delete(minute);
      else if (minute * MINUTE_MS <= now) last24h += n;
    }
    return { total: this.total, last24h, bySystem: { ...this.bySystem }, byType: { ...this.byType } };
  }

  /** Calls `listener` for every event applied from now on; returns the unsubscribe function. */
  onEvent(listener: (event: ServedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
