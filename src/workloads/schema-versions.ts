/**
 * Checks for event types with several schema versions (src/core/upcasting.ts): an event is checked
 * against the schema of the version it says it was written with (`metadata.schemaVersion`, absent = 1),
 * or, for a reader that upcasts, against the current version only.
 */
import type { z } from 'zod';
import { ConfigError, type NewEvent } from '../core/event-store.ts';
import { schemaVersionOf } from '../core/upcasting.ts';
import { formatIssue } from './schema.ts';

/** Event type -> its schemas, oldest first (index 0 = version 1); the last is the current version. */
export type VersionedSchemaMap = Readonly<Record<string, readonly z.ZodType[]>>;

function check(schemas: VersionedSchemaMap, event: NewEvent, only: 'written' | 'current'): void {
  const versions = schemas[event.type];
  if (!versions) throw new ConfigError(`type: unknown event type ${JSON.stringify(event.type)} (expected one of ${Object.keys(schemas).join(', ')})`);
  const version = schemaVersionOf(event);
  if (only === 'current' && version !== versions.length) {
    throw new ConfigError(`${event.type}: schema version ${version} where readers expect the current ${versions.length} (no upcaster applied?)`);
  }
  const schema = versions[version - 1];
  if (!schema) throw new ConfigError(`${event.type}: unknown schema version ${version} (versions 1-${versions.length})`);
  const parsed = schema.safeParse(event.data);
  if (!parsed.success) throw new ConfigError(`${event.type} v${version}: ${formatIssue(parsed.error.issues[0]!, 'data')}`);
}

/** A workload's `validate`: each event against the schema of the version it was written with. */
export function validatorForVersions(schemas: VersionedSchemaMap): (event: NewEvent) => void {
  return (event) => check(schemas, event, 'written');
}

/** A reader's check: the event must be at its type's current version (it went through the upcasters). */
export function currentVersionValidator(schemas: VersionedSchemaMap): (event: NewEvent) => void {
  return (event) => check(schemas, event, 'current');
}
