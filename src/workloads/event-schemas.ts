/**
 * Every event type's schema in one map, and its JSON Schema for consumers in other languages
 * (`eventbench schemas export`, docs/hybrid.md §Schemas for other languages). The zod schemas of the
 * workloads are the source; JSON Schema comes from zod's own `z.toJSONSchema`, never written by hand.
 *
 * A message schema is the stored envelope (src/core/event-store.ts `EventEnvelopeSchema`, the body every
 * backend writes to JetStream) with `type` fixed to the event type, `data` the type's schema, and the
 * optional `position` the hybrid relay adds. Refinements zod cannot express in JSON Schema (the BSN
 * 11-check of the debt cases) are left out by zod: a consumer checks the shape, eventbench the rest.
 */
import { z } from 'zod';
import { ConfigError, EventEnvelopeSchema } from '../core/event-store.ts';
import { CASE_SCHEMAS } from './debt-cases/events.ts';
import { DOCUMENT_SCHEMAS } from './documents.ts';
import { CIM_SCHEMAS } from './domain-events.ts';
import { FILE_UPLOAD_SCHEMAS } from './file-uploads.ts';
import { INVOICE_SCHEMAS } from './invoices.ts';
import type { SchemaMap } from './schema.ts';

/** The workloads' schema maps, by workload. (`synthetic` has none: its payload is the harness's filler.) */
const SCHEMA_MAPS: Readonly<Record<string, SchemaMap>> = {
  'debt-cases': CASE_SCHEMAS,
  documents: DOCUMENT_SCHEMAS,
  'file-uploads': FILE_UPLOAD_SCHEMAS,
  'domain-events': CIM_SCHEMAS,
  invoices: INVOICE_SCHEMAS,
};

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

/** The JSON Schema (draft 2020-12) of one event type's message body. */
export function messageJsonSchema(type: string, data: z.ZodType): Record<string, unknown> {
  const message = EventEnvelopeSchema.extend({
    type: z.literal(type),
    data,
    position: z.number().int().positive().optional().describe('PostgreSQL global position (hybrid topology only)'),
  }).strict();
  return {
    ...z.toJSONSchema(message, { io: 'output', unrepresentable: 'any' }),
    $id: `https://eventbench.invalid/schemas/${type}.json`,
    title: type,
  };
}

/** Every event type's message schema, by type, in a stable order. */
export function eventJsonSchemas(): Map<string, Record<string, unknown>> {
  const schemas = eventDataSchemas();
  return new Map([...schemas.keys()].sort().map((type) => [type, messageJsonSchema(type, schemas.get(type)!)]));
}
