/**
 * `eventbench schemas export [--out DIR]`: one JSON Schema file per event type (`<type>.json`, the message
 * body as every backend writes it to JetStream) plus `index.json` (type -> file, and the headers eventbench
 * sets), for consumers in other languages (go/consumer validates against these). docs/hybrid.md §Schemas.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { prepareOutDir } from '../../report/out-dir.ts';
import { eventJsonSchemaVersions, eventJsonSchemas } from '../../workloads/event-schemas.ts';

/** The headers on eventbench's JetStream messages, for index.json (docs/envelope.md §Headers lists the same). */
const HEADERS = {
  'Nats-Msg-Id': 'the event id; JetStream deduplicates on it within the stream duplicate window',
  'Nats-Expected-Last-Subject-Sequence': 'jetstream backend appends only: the optimistic-concurrency check (the subject\'s last sequence)',
  'Eventbench-Version': 'the event\'s version in its stream (also `version` in the body)',
  'Eventbench-Type': 'hybrid relay only: the event type (also `type` in the body)',
  'Eventbench-Position': 'hybrid relay only: the PostgreSQL global position (also `position` in the body)',
} as const;

export function registerSchemas(program: Command): void {
  const schemas = program.command('schemas').description('event schemas for consumers in other languages');
  schemas
    .command('export')
    .description('write JSON Schema (draft 2020-12) for every event type, from the zod schemas, plus index.json')
    .option('--out <dir>', 'directory to write into (created if missing)', 'schemas')
    .action((opts: { out: string }) => {
      const out = prepareOutDir(opts.out);
      const all = eventJsonSchemas();
      const files: Record<string, string> = {};
      for (const [type, schema] of all) {
        const file = `${type}.json`;
        writeFileSync(join(out.path, file), `${JSON.stringify(schema, null, 2)}\n`);
        files[type] = file;
      }
      // A type with several schema versions: every version as <type>.v<n>.json, the current one also as
      // <type>.json; the version an event was written with is its metadata.schemaVersion (absent = 1).
      const versions: Record<string, Record<string, string>> = {};
      for (const [type, byVersion] of eventJsonSchemaVersions()) {
        versions[type] = {};
        for (const [version, schema] of byVersion) {
          const file = `${type}.v${version}.json`;
          writeFileSync(join(out.path, file), `${JSON.stringify(schema, null, 2)}\n`);
          versions[type][String(version)] = file;
        }
      }
      writeFileSync(join(out.path, 'index.json'), `${JSON.stringify({ types: files, versions, headers: HEADERS }, null, 2)}\n`);
      out.keep();
      process.stdout.write(`wrote ${all.size} event schemas and index.json to ${out.path}\n`);
    });
}
