/**
 * `eventbench schemas export`: one JSON Schema per event type of every workload, written from the zod
 * schemas; an event each workload generates, in the body the backends write to JetStream, validates
 * against its type's schema (with a draft 2020-12 validator, ajv), and a broken one does not; bad --out is
 * one line, exit 2.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import { afterAll, expect, it } from 'vitest';
import { workloads } from '../../src/workloads/index.ts';
import { eventDataSchemas } from '../../src/workloads/event-schemas.ts';
import { eventbench } from '../load/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-schemas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes a schema per event type that the workloads\' events validate against', async () => {
  const out = join(dir, 'out');
  const run = await eventbench(['schemas', 'export', '--out', out]);
  expect(run.code, run.stderr).toBe(0);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { types: Record<string, string>; headers: Record<string, string> };
  const types = [...eventDataSchemas().keys()].sort();
  expect(Object.keys(index.types).sort()).toEqual(types);
  expect(readdirSync(out).sort()).toEqual([...types.map((t) => `${t}.json`), 'index.json'].sort());
  expect(Object.keys(index.headers)).toEqual(expect.arrayContaining(['Nats-Msg-Id', 'Eventbench-Version', 'Eventbench-Position']));

  const ajv = new Ajv2020.default({ strict: false, allErrors: true, validateFormats: false });
  const validators = new Map(types.map((t) => [t, ajv.compile(JSON.parse(readFileSync(join(out, index.types[t]!), 'utf8')))]));
  let checked = 0;
  for (const workload of Object.values(workloads)) {
    if (workload.name === 'synthetic') continue; // no zod schema: the harness's filler payload
    const generator = workload.create({ seed: 7 });
    for (let i = 0; i < 40; i++) {
      for (const [k, e] of generator.next().events.entries()) {
        const body = { id: e.id, type: e.type, timestamp: new Date().toISOString(), correlationId: e.correlationId ?? e.id, aggregateId: 'a1', aggregateType: workload.category, version: k + 1, data: e.data, metadata: e.metadata ?? {}, position: 12 };
        const validate = validators.get(e.type);
        expect(validate, `a schema for ${e.type}`).toBeDefined();
        expect(validate!(body), `${e.type}: ${JSON.stringify(validate!.errors)}`).toBe(true);
        expect(validate!({ ...body, data: { ...(body.data as object), unexpected: 1 } }), `${e.type} with an extra field`).toBe(false);
        expect(validate!({ ...body, version: 0 }), `${e.type} with version 0`).toBe(false);
        checked++;
      }
    }
  }
  expect(checked).toBeGreaterThan(100);
});

it('refuses an --out that is a file, in one line, exit 2', async () => {
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  const run = await eventbench(['schemas', 'export', '--out', file]);
  expect(run.code).toBe(2);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/--out .*not a directory/);
});
