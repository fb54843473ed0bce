/**
 * The read side of `eventbench serve` alone: the window keeps the latest WINDOW_SIZE events newest first,
 * filters by system and short type, counts each event id once (catch-up and subscription overlap), keeps
 * totals beyond the window, counts `last24h` by event timestamp, and says from which position on a
 * redelivery can no longer be told by id (`floor`).
 */
import { describe, expect, it } from 'vitest';
import type { RecordedEvent } from '../../src/core/event-store.ts';
import { ReadSide, shortType, WINDOW_SIZE } from '../../src/runners/serve/read-side.ts';

const NOW = Date.parse('2026-12-04T12:00:00Z');
let position = 0;
function doc(system: string, type = 'document.uploaded', timestamp = '2025-01-06T08:00:00.000Z'): RecordedEvent {
  const id = `e${++position}`;
  return {
    id, type, timestamp, correlationId: id, aggregateId: id, aggregateType: 'document', version: 1, metadata: {},
    stream: `document-${system}_${id}`, position,
    data: { eventId: id, eventType: type, system, timestamp, document: { title: id } },
  };
}

describe('ReadSide', () => {
  it('serves the latest events newest first, filtered, and counts each id once', () => {
    const side = new ReadSide(() => NOW);
    const a = doc('paperless');
    const b = doc('alfresco', 'document.deleted');
    const c = doc('paperless', 'document.updated');
    for (const e of [a, b, c]) expect(side.apply(e)).toBe(true);
    expect(side.apply(b)).toBe(false);
    expect(side.recent(10).map((e) => e.eventId)).toEqual([c.id, b.id, a.id]);
    expect(side.recent(1).map((e) => e.eventId)).toEqual([c.id]);
    expect(side.recent(10, { system: 'paperless' }).map((e) => e.eventId)).toEqual([c.id, a.id]);
    expect(side.recent(10, { type: 'deleted' }).map((e) => e.eventId)).toEqual([b.id]);
    expect(side.stats()).toEqual({ total: 3, last24h: 0, bySystem: { paperless: 2, alfresco: 1 }, byType: { uploaded: 1, deleted: 1, updated: 1 } });
  });

  it('keeps WINDOW_SIZE events but counts all; floor is where the window starts once it overflowed', () => {
    const side = new ReadSide(() => NOW);
    const first = doc('paperless');
    side.apply(first);
    expect(side.floor()).toBe(0);
    for (let i = 0; i < WINDOW_SIZE; i++) side.apply(doc('alfresco'));
    expect(side.recent(WINDOW_SIZE + 10)).toHaveLength(WINDOW_SIZE);
    expect(side.stats().total).toBe(WINDOW_SIZE + 1);
    expect(side.floor()).toBe(first.position + 1);
    // Out of the window, its id is forgotten: redelivered, it would count again; the caller uses floor().
    expect(side.apply(first)).toBe(true);
  });

  it('counts last24h by event timestamp', () => {
    const side = new ReadSide(() => NOW);
    side.apply(doc('paperless', 'document.uploaded', new Date(NOW - 60_000).toISOString()));
    side.apply(doc('paperless', 'document.uploaded', new Date(NOW - 23 * 3600_000).toISOString()));
    side.apply(doc('paperless', 'document.uploaded', new Date(NOW - 25 * 3600_000).toISOString()));
    side.apply(doc('paperless'));
    expect(side.stats()).toMatchObject({ total: 4, last24h: 2 });
  });

  it('tells listeners about each new event once', () => {
    const side = new ReadSide(() => NOW);
    const seen: unknown[] = [];
    const off = side.onEvent((e) => seen.push(e.eventId));
    const e = doc('paperless');
    side.apply(e);
    side.apply(e);
    off();
    side.apply(doc('paperless'));
    expect(seen).toEqual([e.id]);
    expect(shortType('document.uploaded')).toBe('uploaded');
  });
});
