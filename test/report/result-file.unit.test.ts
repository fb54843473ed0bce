/**
 * Reading result files back: the current schema version validates, version 1 is brought forward exactly
 * (a max search's limitFound is whether a step failed), and a missing, non-JSON, foreign, newer or
 * invalid file is one ConfigError line naming the file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { LOAD_RESULT_SCHEMA_VERSION } from '../../src/report/load-result.ts';
import { parseResult, readResultFile } from '../../src/report/result-file.ts';

const fixture = (name: string): string => new URL(`../fixtures/results/${name}`, import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'eventbench-result-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a refusal');
}

describe('readResultFile', () => {
  it('reads the committed results of schema version 2', () => {
    const read = readResultFile(fixture('bench-ramp-v2.json'));
    expect(read.schemaVersion).toBe(2);
    expect(read.result.backends.map((b) => b.backend)).toEqual(['postgres', 'jetstream']);
    expect(read.text).toBe(readFileSync(fixture('bench-ramp-v2.json'), 'utf8'));
  });

  it('reads a result of the current version against the current schema', () => {
    const read = readResultFile(fixture('bench-runs-v3.json'));
    expect(read.schemaVersion).toBe(LOAD_RESULT_SCHEMA_VERSION);
    expect(read.result.backends).toHaveLength(8);
  });

  it('brings version 1 forward: limitFound is whether a step of the max search failed', () => {
    const v1 = readResultFile(fixture('load-max-v1.json'));
    const v2 = readResultFile(fixture('load-max-v2.json'));
    expect(v1.schemaVersion).toBe(1);
    const m = v1.result.backends[0]!.maxSearch!;
    expect(m.limitFound).toBe(m.steps.some((s) => !s.passed));
    expect(m.limitFound).toBe(v2.result.backends[0]!.maxSearch!.limitFound);
    expect(m.hint).toBeNull();
  });

  it('refuses a missing file, a directory, and text that is not JSON, each in one line naming the file', () => {
    expect(refusal(() => readResultFile(join(dir, 'nope.json')))).toMatch(/nope\.json: no such file/);
    expect(refusal(() => readResultFile(dir))).toMatch(/is a directory/);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"tool": "eventbench", ');
    expect(refusal(() => readResultFile(bad))).toMatch(/bad\.json: not JSON/);
  });

  it('refuses a foreign file, a newer version, a version never written, and an invalid result', () => {
    const v2 = JSON.parse(readFileSync(fixture('load-max-v2.json'), 'utf8')) as Record<string, unknown>;
    expect(refusal(() => parseResult({ name: 'eventbench' }, 'x.json'))).toMatch(/x\.json: not an eventbench load or bench result/);
    expect(refusal(() => parseResult([], 'x.json'))).toMatch(/not an eventbench result/);
    expect(refusal(() => parseResult({ ...v2, schemaVersion: LOAD_RESULT_SCHEMA_VERSION + 1 }, 'x.json'))).toMatch(
      new RegExp(`schema version ${LOAD_RESULT_SCHEMA_VERSION + 1} is newer than this eventbench reads \\(1 to ${LOAD_RESULT_SCHEMA_VERSION}\\); update eventbench`),
    );
    expect(refusal(() => parseResult({ ...v2, schemaVersion: 0 }, 'x.json'))).toMatch(/schema version 0 is not one eventbench ever wrote/);
    expect(refusal(() => parseResult({ ...v2, backends: [{ backend: 'memory' }] }, 'x.json'))).toMatch(/x\.json: .*backends\.0\./);
  });
});
