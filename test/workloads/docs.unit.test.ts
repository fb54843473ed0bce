/**
 * docs/case-processing.md and docs/workloads.md state the event schemas as requirements; the zod schemas
 * in src/workloads/ are the code's one source. This keeps the two in step: every field and allowed value
 * of a schema must appear in its page (as `code`), so a field added, renamed or dropped in one place
 * without the other fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  CASE_EVENT_TYPES,
  CASE_SCHEMAS,
  DECISION_VALUES,
  DebtSchema,
  INTAKE_CHANNEL_VALUES,
  OUTCOME_VALUES,
  PRIORITY_VALUES,
} from '../../src/workloads/debt-cases/events.ts';
import { CREDITOR_NAMES } from '../../src/workloads/debt-cases/figures.ts';
import { DMS_SYSTEMS, DOCUMENT_EVENT_TYPES, DocumentEventSchema } from '../../src/workloads/documents.ts';
import { FILE_UPLOAD_TYPE, FileUploadEventSchema } from '../../src/workloads/file-uploads.ts';
import { INVOICE_SCHEMAS } from '../../src/workloads/invoices.ts';
import { WORKLOAD_NAMES } from '../../src/workloads/index.ts';

const doc = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
const keys = (schema: z.ZodType): string[] => Object.keys((schema as unknown as { shape: Record<string, z.ZodType> }).shape);

/** The items of `names` that the page does not mention as `code`. */
const missing = (page: string, names: readonly string[]): string[] => names.filter((n) => !page.includes(`\`${n}\``));

describe('docs/case-processing.md matches the case event schemas', () => {
  const page = doc('case-processing.md');

  it('names every event type, field and allowed value', () => {
    expect(missing(page, Object.values(CASE_EVENT_TYPES))).toEqual([]);
    for (const schema of Object.values(CASE_SCHEMAS)) expect(missing(page, keys(schema))).toEqual([]);
    expect(missing(page, [...keys(DebtSchema), ...CREDITOR_NAMES])).toEqual([]);
    expect(missing(page, [...INTAKE_CHANNEL_VALUES, ...PRIORITY_VALUES, ...DECISION_VALUES, ...OUTCOME_VALUES])).toEqual([]);
  });
});

describe('docs/workloads.md matches the other workloads', () => {
  const page = doc('workloads.md');

  it('lists every workload and event type', () => {
    expect(missing(page, WORKLOAD_NAMES)).toEqual([]);
    expect(missing(page, [...DOCUMENT_EVENT_TYPES, FILE_UPLOAD_TYPE, ...Object.keys(INVOICE_SCHEMAS)])).toEqual([]);
  });

  it('names every field of the document, file-upload and invoice schemas', () => {
    const shape = (DocumentEventSchema as unknown as { shape: Record<string, z.ZodType> }).shape;
    const nested = ['document', 'metadata'].flatMap((k) => keys(shape[k]!).map((f) => `${k}.${f}`));
    expect(missing(page, [...keys(DocumentEventSchema).filter((k) => k !== 'document' && k !== 'metadata'), ...nested])).toEqual([]);
    expect(missing(page, DMS_SYSTEMS)).toEqual([]);
    expect(missing(page, keys(FileUploadEventSchema))).toEqual([]);
    for (const schema of Object.values(INVOICE_SCHEMAS)) expect(missing(page, keys(schema))).toEqual([]);
  });
});
