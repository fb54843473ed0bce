/**
 * The replay view's source (`GET /replay`, docs/event-api.md §Replay): pages of one category's or one
 * stream's events after a position, each with the read model as it stands after that event, so the page
 * can step and play through history and show the read model being rebuilt.
 *
 * The read model is computed here, not in the browser, so there is one projection (the debt cases'
 * `CaseProjection`, cases by status and decision) and not a second copy in JavaScript. A replay session
 * usually asks for the page after the one it just got, so the projection at the end of the last page is
 * kept (a few sources, least recently used first out) and continued; a jump elsewhere rebuilds from the
 * start, reading at most `MAX_REBUILD_EVENTS`.
 *
 * A replay can also start at a time (`pageAt`): at the source's first event, in its order, whose
 * timestamp is at or after that time. Timestamps are the writers' (an event may carry an older one than
 * the event before it), so this is a scan from the start, not a binary search over positions: the same
 * read the read model needs anyway, which the scan builds as it goes.
 */
import { ConfigError, type EventStore, type RecordedEvent } from '../../core/event-store.ts';
import { CASE_CATEGORY } from '../../workloads/debt-cases/events.ts';
import { CaseProjection, type CaseSummary } from '../../workloads/debt-cases/projection.ts';

export const REPLAY_DEFAULT_LIMIT = 50;
export const REPLAY_MAX_LIMIT = 500;
/** A replay from a position needs the events before it applied: bounded, so one request cannot read a whole store. */
export const MAX_REBUILD_EVENTS = 1_000_000;
const CACHED_SOURCES = 8;
const PAGE = 1000;

export type ReplaySource = { category: string; stream?: undefined } | { stream: string; category?: undefined };

export interface ReadModel {
  /** Events applied so far. */
  events: number;
  byType: Record<string, number>;
  /** The debt cases' read model, when the events are case events. */
  cases?: CaseSummary;
}

export interface ReplayStep {
  position: number;
  stream: string;
  version: number;
  type: string;
  timestamp: string;
  data: unknown;
  readModel: ReadModel;
}

export interface ReplayPage {
  source: ReplaySource;
  /** A page asked for by time (`pageAt`): the time, and the position of the first event at or after it (null: none yet). */
  seek?: { at: string; position: number | null };
  from: number;
  /** The `from` of the next page. */
  next: number;
  /** True when this page reached the end of what is stored now. */
  done: boolean;
  steps: ReplayStep[];
}

class Model {
  position = 0;
  events = 0;
  readonly byType: Record<string, number> = {};
  readonly cases = new CaseProjection();
  private hasCases = false;

  apply(e: RecordedEvent, position: number): void {
    this.position = position;
    this.events++;
    this.byType[e.type] = (this.byType[e.type] ?? 0) + 1;
    if (e.type.startsWith(`${CASE_CATEGORY}.`)) {
      this.hasCases = true;
      this.cases.apply(e);
    }
  }

  snapshot(): ReadModel {
    return { events: this.events, byType: { ...this.byType }, ...(this.hasCases ? { cases: this.cases.summary() } : {}) };
  }
}

/** `position` of an event in the source: the global/category position, or the version within a stream. */
const positionIn = (source: ReplaySource, e: RecordedEvent): number => (source.stream !== undefined ? e.version : e.position);

const keyOf = (source: ReplaySource): string => (source.stream !== undefined ? `stream:${source.stream}` : `category:${source.category}`);

export class Replayer {
  private readonly models = new Map<string, Model>();

  constructor(private readonly store: EventStore) {}

  private keep(key: string, model: Model): void {
    this.models.set(key, model);
    if (this.models.size > CACHED_SOURCES) this.models.delete(this.models.keys().next().value!);
  }

  private read(source: ReplaySource, after: number, limit: number): Promise<RecordedEvent[]> {
    return source.stream !== undefined
      ? this.store.readStream(source.stream, { fromVersion: after + 1, limit })
      : this.store.readAll({ category: source.category, fromPosition: after, limit });
  }

  /** The model with every event up to and including position `from` applied. */
  private async modelAt(key: string, source: ReplaySource, from: number): Promise<Model> {
    const cached = this.models.get(key);
    this.models.delete(key);
    const model = cached && cached.position <= from ? cached : new Model();
    let read = 0;
    while (model.position < from) {
      const events = await this.read(source, model.position, PAGE);
      for (const e of events) {
        const p = positionIn(source, e);
        if (p > from) break;
        model.apply(e, p);
      }
      read += events.length;
      if (events.length < PAGE || positionIn(source, events[events.length - 1]!) > from) break;
      if (read > MAX_REBUILD_EVENTS) {
        throw new ConfigError(`replay: more than ${MAX_REBUILD_EVENTS} events before position ${from}; replay a stream, or start at 0 and step forward`);
      }
    }
    // Positions need not be contiguous (other categories share the global order): the model stands at `from`.
    if (model.position < from) model.position = from;
    return model;
  }

  /** The page of at most `limit` events after position `from`, each with the read model after it. */
  async page(source: ReplaySource, from: number, limit: number): Promise<ReplayPage> {
    const key = keyOf(source);
    const model = await this.modelAt(key, source, from);
    const events = await this.read(source, from, limit);
    const steps: ReplayStep[] = events.map((e) => {
      model.apply(e, positionIn(source, e));
      return { position: positionIn(source, e), stream: e.stream, version: e.version, type: e.type, timestamp: e.timestamp, data: e.data, readModel: model.snapshot() };
    });
    this.keep(key, model);
    return { source, from, next: steps.length ? steps[steps.length - 1]!.position : from, done: events.length < limit, steps };
  }

  /**
   * The page that starts at the source's first event (in its order) whose timestamp is at or after
   * `atMs`, with the read model of every event before it applied. No such event yet: an empty page at
   * the end of what is stored, `seek.position` null.
   */
  async pageAt(source: ReplaySource, atMs: number, limit: number): Promise<ReplayPage> {
    const key = keyOf(source);
    this.models.delete(key);
    const model = new Model();
    const seek = { at: new Date(atMs).toISOString(), position: null as number | null };
    let read = 0;
    scan: for (;;) {
      const events = await this.read(source, model.position, PAGE);
      for (const e of events) {
        const p = positionIn(source, e);
        if (Date.parse(e.timestamp) >= atMs) {
          seek.position = p;
          break scan;
        }
        model.apply(e, p);
      }
      read += events.length;
      if (events.length < PAGE) break;
      if (read > MAX_REBUILD_EVENTS) {
        throw new ConfigError(`replay: no event at or after ${seek.at} among the first ${MAX_REBUILD_EVENTS}; replay a stream, or pick a position`);
      }
    }
    if (seek.position === null) {
      this.keep(key, model);
      return { source, seek, from: model.position, next: model.position, done: true, steps: [] };
    }
    // Positions are integers: the page after `position - 1` starts at the event found, and the model
    // built so far stands there (page() continues it without reading again).
    model.position = seek.position - 1;
    this.keep(key, model);
    return { ...(await this.page(source, seek.position - 1, limit)), seek };
  }
}
