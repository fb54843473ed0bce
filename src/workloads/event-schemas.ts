/**
 * Every event type's schema in one map, and its JSON Schema for consumers in other languages
 * (`eventbench schemas export`, docs/hybrid.md §Schemas for other languages). The zod schemas of the
 * workloads are the source; JSON Schema comes from zod's own `z.toJSONSchema`, never written by hand.
 *
 * A message schema is the stored envelope (src/core/event-store.ts `EventEnvelopeSchema`, the body every
 * backend writes to JetStream) with `type` fixed to the event type, `data` the type's schema, and the
 * optional `position` the hybrid relay adds. Refinements zod cannot express in JSON Schema (the BSN
 * 11-check of the debt cases) are left out by zod: a consumer checks the shape, eventbench the rest.
 *
 * A type with several schema versions (src/core/upcasting.ts) is listed once per version in
 * SCHEMA_VERSIONS with its upcasters; its current version is the one in SCHEMA_MAPS. `readerView` gives
 * a reader (the load run's consumer) the store and the checks that see every event at its current version.
 */
import { z } from 'zod';
import { ConfigError, EventEnvelopeSchema, type EventStore } from '../core/event-store.ts';
import { createUpcasterChain, withUpcasting, type Upcaster, type UpcasterChain } from '../core/upcasting.ts';
import { CASE_SCHEMAS } from './debt-cases/events.ts';
import { DOCUMENT_SCHEMAS } from './documents.ts';
import { CIM_SCHEMAS } from './domain-events.ts';
import { FILE_UPLOAD_SCHEMAS } from './file-uploads.ts';
import { INVOICE_SCHEMAS } from './invoices.ts';
import { INVOICES_EVOLVING_SCHEMAS, INVOICES_EVOLVING_UPCASTERS, INVOICES_EVOLVING_VERSIONS } from './invoices-evolving.ts';
import type { SchemaMap } from './schema.ts';
import { currentVersionValidator, type VersionedSchemaMap } from './schema-versions.ts';
import type { WorkloadModule } from './workload.ts';

/** The workloads' schema maps, by workload. (`synthetic` has none: its payload is the harness's filler.) */
const SCHEMA_MAPS: Readonly<Record<string, SchemaMap>> = {
  'debt-cases': CASE_SCHEMAS,
  documents: DOCUMENT_SCHEMAS,
  'file-uploads': FILE_UPLOAD_SCHEMAS,
  'domain-events': CIM_SCHEMAS,
  invoices: INVOICE_SCHEMAS,
  'invoices-evolving': INVOICES_EVOLVING_SCHEMAS,
};

/** Workloads whose event schemas have several versions: every version, and the upcasters between them. */
const SCHEMA_VERSIONS: Readonly<Record<string, { versions: VersionedSchemaMap; upcasters: readonly Upcaster<never, unknown>[] }>> = {
  'invoices-evolving': { versions: INVOICES_EVOLVING_VERSIONS, upcasters: INVOICES_EVOLVING_UPCASTERS },
};

/** The upcaster chain of a workload whose schemas evolve (undefined for the others). */
export function upcastersOf(workload: string): UpcasterChain | undefined {
  const v = SCHEMA_VERSIONS[workload];
  return v ? createUpcasterChain(v.upcasters) : undefined;
}

/**
 * What a reader of `workload`'s events uses: for a workload whose schemas evolve, the store with its
 * upcasters (every event handed out at its current version) and the workload with a check that accepts
 * the current version only; any other workload and store unchanged.
 */
export function readerView(workload: WorkloadModule, store: EventStore): { workload: WorkloadModule; store: EventStore } {
  const v = SCHEMA_VERSIONS[workload.name];
  if (!v) return { workload, store };
  return { workload: { ...workload, validate: currentVersionValidator(v.versions) }, store: withUpcasting(store, createUpcasterChain(v.upcasters)) };
}

/** Event type -> its schemas by version (oldest first), for the types that have more than one. */
export function eventSchemaVersions(): Map<string, readonly z.ZodType[]> {
  const out = new Map<string, readonly z.ZodType[]>();
  for (const { versions } of Object.values(SCHEMA_VERSIONS)) {
    for (const [type, schemas] of Object.entries(versions)) if (schemas.length > 1) out.set(type, schemas);
  }
  return out;
}

/** Event type -> zod schema of its `data`, over every workload. A type defined twice is a programming error. */
export function eventDataSchemas(): Map<string, z.ZodType> {
  const out = new Map<string, z.ZodType>();
  for (const [workload, map] of Object.entries(SCHEMA_MAPS)) {
    for (const [type, schema] of Object.entries(map)) {
      if (out.has(type)) throw new ConfigError(`event type ${type} is defined by two workloads (${workload} and another)`);
      out.set(type, schema);
    }
  }
  return out;
}

/** The JSON Schema (draft 2020-12) of one event type's message body (of one older schema version when `version` is given). */
export function messageJsonSchema(type: string, data: z.ZodType, version?: number): Record<string, unknown> {
  const message = EventEnvelopeSchema.extend({
    type: z.literal(type),
    data,
    position: z.number().int().positive().optional().describe('PostgreSQL global position (hybrid topology only)'),
  }).strict();
  return {
    ...z.toJSONSchema(message, { io: 'output', unrepresentable: 'any' }),
    $id: `https://eventbench.invalid/schemas/${version === undefined ? type : `${type}.v${version}`}.json`,
    title: version === undefined ? type : `${type} (schema version ${version})`,
  };
}

/** Every event type's message schema, by type, in a stable order. */
export function eventJsonSchemas(): Map<string, Record<string, unknown>> {
  const schemas = eventDataSchemas();
  return new Map([...schemas.keys()].sort().map((type) => [type, messageJsonSchema(type, schemas.get(type)!)]));
}

/** Every schema version of the types that have several, by type then version (the current one included). */
export function eventJsonSchemaVersions(): Map<string, Map<number, Record<string, unknown>>> {
  const out = new Map<string, Map<number, Record<string, unknown>>>();
  for (const [type, versions] of [...eventSchemaVersions()].sort((a, b) => a[0].localeCompare(b[0]))) {
    out.set(type, new Map(versions.map((schema, i) => [i + 1, messageJsonSchema(type, schema, i + 1)])));
  }
  return out;
}
