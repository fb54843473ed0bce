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

export class Replayer {
  private readonly models = new Map<string, Model>();

  constructor(private readonly store: EventStore) {}

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
    const key = source.stream !== undefined ? `stream:${source.stream}` : `category:${source.category}`;
    const model = await this.modelAt(key, source, from);
    const events = await this.read(source, from, limit);
    const steps: ReplayStep[] = events.map((e) => {
      model.apply(e, positionIn(source, e));
      return { position: positionIn(source, e), stream: e.stream, version: e.version, type: e.type, timestamp: e.timestamp, data: e.data, readModel: model.snapshot() };
    });
    this.models.set(key, model);
    if (this.models.size > CACHED_SOURCES) this.models.delete(this.models.keys().next().value!);
    return { source, from, next: steps.length ? steps[steps.length - 1]!.position : from, done: events.length < limit, steps };
  }
}
