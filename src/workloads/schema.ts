/**
 * Validation shared by every workload: an event's `data` is checked against the zod schema of its type,
 * and a failure is a ConfigError that names the event type and the offending field
 * (e.g. `case.intake: data.citizen_bsn: fails the 11-check (elfproef)`).
 */
import type { z } from 'zod';
import { ConfigError, type NewEvent } from '../core/event-store.ts';

export type SchemaMap = Readonly<Record<string, z.ZodType>>;

export function formatIssue(issue: z.core.$ZodIssue, prefix: string): string {
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return `${prefix}${path}: ${issue.message}`;
}

/** Parses `data` with the schema of `type`; throws ConfigError naming the field. Returns the parsed data. */
export function validateData<T = unknown>(schemas: SchemaMap, type: string, data: unknown): T {
  const schema = schemas[type];
  if (!schema) {
    throw new ConfigError(`type: unknown event type ${JSON.stringify(type)} (expected one of ${Object.keys(schemas).join(', ')})`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`${type}: ${formatIssue(issue, 'data')}`);
  }
  return parsed.data as T;
}

/** A workload's `validate(event)`: the envelope's type selects the schema. */
export function validatorFor(schemas: SchemaMap): (event: NewEvent) => void {
  return (event) => {
    validateData(schemas, event.type, event.data);
  };
}
