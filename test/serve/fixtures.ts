/**
 * What the serve tests append: document events from the `documents` workload (the shape the event API
 * serves) and hand-written debt-case lifecycles (intake -> analysis -> decision -> completed) whose read
 * model the replay view rebuilds; and the stores, one per backend, isolated by namespace.
 */
import type { EventStore, NewEvent } from '../../src/core/event-store.ts';
import { createStore, type BackendName } from '../../src/store/index.ts';
import { documentsWorkload } from '../../src/workloads/documents.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

export const SERVE_BACKENDS: { name: BackendName; cleanup: (ns: string) => Promise<unknown> }[] = [
  { name: 'postgres', cleanup: (ns) => dropSchema(ns) },
  { name: 'jetstream', cleanup: (ns) => deleteStreams(testNatsUrl(), `${ns}-`) },
];

export async function openTestStore(name: BackendName, namespace: string): Promise<EventStore> {
  const store = await createStore(name, { namespace, pgUrl: testPgUrl(), natsUrl: testNatsUrl() });
  await store.init();
  return store;
}

/** Appends `count` document events (seeded); returns their data (the served `DocumentEvent`s) in order. */
export async function appendDocuments(store: EventStore, count: number, seed = 1): Promise<Record<string, unknown>[]> {
  const gen = documentsWorkload.create({ seed });
  const out: Record<string, unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const a = gen.next();
    await store.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    for (const e of a.events) out.push(e.data as Record<string, unknown>);
  }
  return out;
}

/** One document event with a fresh id and the current time (so it counts in `last24h`). */
export function freshDocument(system: 'paperless' | 'alfresco' = 'paperless'): { stream: string; event: NewEvent } {
  const id = uniqueName('doc');
  const now = new Date().toISOString();
  const data = {
    eventId: id,
    eventType: 'document.uploaded',
    timestamp: now,
    system,
    document: { id, title: `Fresh ${id}`, type: 'memo', category: 'Subsidies', author: 'Test Author', date: now, tags: ['fresh'], size: 1234, contentType: 'application/pdf' },
    metadata: { source: 'serve-test' },
  };
  return { stream: `document-${system}_${id}`, event: { id, type: 'document.uploaded', timestamp: now, data } };
}

const DECISIONS = ['forgive', 'payment_plan', 'collect', 'refer_assistance'] as const;

/** `n` case lifecycles, one stream each: intake, analysis, decision (cycling through the decisions), completed. */
export async function appendCases(store: EventStore, n: number): Promise<string[]> {
  const streams: string[] = [];
  for (let i = 0; i < n; i++) {
    const caseId = uniqueName('case');
    const stream = `case-${caseId}`;
    const ev = (type: string, data: Record<string, unknown>): NewEvent => ({ id: uniqueName('ev'), type, data: { case_id: caseId, ...data } });
    await store.appendToStream(stream, [ev('case.intake', { debt_amount: 1000 + i, priority: 'normal' })], { expectedVersion: 'no_stream' });
    await store.appendToStream(stream, [ev('case.analysis', { estimated_savings: 100 })], { expectedVersion: 1 });
    await store.appendToStream(stream, [ev('case.decision', { decision: DECISIONS[i % DECISIONS.length], escalated: false })], { expectedVersion: 2 });
    await store.appendToStream(stream, [ev('case.completed', { outcome: 'resolved', total_savings: 90, duration_seconds: 86_400 })], { expectedVersion: 3 });
    streams.push(stream);
  }
  return streams;
}
