/**
 * `eventbench schemas export`: one JSON Schema per event type of every workload, written from the zod
 * schemas; an event each workload generates, in the body the backends write to JetStream, validates
 * against its type's schema (with a draft 2020-12 validator, ajv), and a broken one does not; a type with
 * several schema versions has a file per version, and each event validates against the file of the
 * version it was written with (metadata.schemaVersion) and not against another; bad --out is one line, exit 2.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, expect, it } from 'vitest';
import { workloads } from '../../src/workloads/index.ts';
import { createEvolvingPayments } from '../../src/workloads/invoices-evolving.ts';
import { schemaVersionOf } from '../../src/core/upcasting.ts';
import { eventDataSchemas, eventSchemaVersions } from '../../src/workloads/event-schemas.ts';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-schemas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes a schema per event type that the workloads\' events validate against', async () => {
  const out = join(dir, 'out');
  const run = await eventbench(['schemas', 'export', '--out', out]);
  expect(run.code, run.stderr).toBe(0);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { types: Record<string, string>; versions: Record<string, Record<string, string>>; headers: Record<string, string> };
  const types = [...eventDataSchemas().keys()].sort();
  expect(Object.keys(index.types).sort()).toEqual(types);
  const versioned = [...eventSchemaVersions()];
  expect(versioned.length).toBeGreaterThan(0);
  const versionFiles = versioned.flatMap(([t, v]) => v.map((_, i) => `${t}.v${i + 1}.json`));
  expect(Object.values(index.versions).flatMap((v) => Object.values(v)).sort()).toEqual([...versionFiles].sort());
  expect(readdirSync(out).sort()).toEqual([...types.map((t) => `${t}.json`), ...versionFiles, 'index.json'].sort());
  expect(Object.keys(index.headers)).toEqual(expect.arrayContaining(['Nats-Msg-Id', 'Eventbench-Version', 'Eventbench-Position']));

  const ajv = new Ajv2020.default({ strict: false, allErrors: true, validateFormats: false });
  const compile = (file: string) => ajv.compile(JSON.parse(readFileSync(join(out, file), 'utf8')));
  const validators = new Map(types.map((t) => [t, compile(index.types[t]!)]));
  const byVersion = new Map(Object.entries(index.versions).map(([t, v]) => [t, new Map(Object.entries(v).map(([n, f]) => [Number(n), compile(f)]))]));
  const versionsSeen = new Set<string>();
  let checked = 0;
  for (const workload of Object.values(workloads)) {
    if (workload.name === 'synthetic') continue; // no zod schema: the harness's filler payload
    // (invoices-evolving switches to the current version after 1000 events: half of the 40 as each.)
    const generator = workload.name === 'invoices-evolving' ? createEvolvingPayments({ seed: 7, legacyEvents: 20 }) : workload.create({ seed: 7 });
    for (let i = 0; i < 40; i++) {
      for (const [k, e] of generator.next().events.entries()) {
        const body = { id: e.id, type: e.type, timestamp: new Date().toISOString(), correlationId: e.correlationId ?? e.id, aggregateId: 'a1', aggregateType: workload.category, version: k + 1, data: e.data, metadata: e.metadata ?? {}, position: 12 };
        const versions = byVersion.get(e.type);
        const version = schemaVersionOf(e);
        const validate = versions ? versions.get(version) : validators.get(e.type);
        expect(validate, `a schema for ${e.type} v${version}`).toBeDefined();
        if (versions) {
          versionsSeen.add(`${e.type} v${version}`);
          // Another version's schema refuses it (the versions differ in shape).
          for (const [n, other] of versions) if (n !== version) expect(other(body), `${e.type} v${version} against v${n}`).toBe(false);
          if (version === versions.size) expect(validators.get(e.type)!(body), `${e.type}: the current version is <type>.json`).toBe(true);
        }
        expect(validate!(body), `${e.type}: ${JSON.stringify(validate!.errors)}`).toBe(true);
        expect(validate!({ ...body, data: { ...(body.data as object), unexpected: 1 } }), `${e.type} with an extra field`).toBe(false);
        expect(validate!({ ...body, version: 0 }), `${e.type} with version 0`).toBe(false);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(100);
  expect([...versionsSeen].sort()).toEqual(['billing.payment.received v1', 'billing.payment.received v3']);
});

it('refuses an --out that is a file, in one line, exit 2', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const run = await eventbench(['schemas', 'export', '--out', file]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/--out .*not a directory/);
});
