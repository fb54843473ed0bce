/**
 * Reads a result file of any schema version for the commands that read results back (`eventbench report`,
 * `eventbench compare`): files of the current version are validated against the current schema; files of
 * an earlier version are brought forward where that is exact (see UPGRADES) and then validated against
 * what a reader needs (`renderableResultSchema`: the fields every version since 1 carries). A file that
 * is missing, not JSON, not an eventbench result, of a newer version or invalid is one ConfigError line
 * (exit 2) naming the file and what to do. docs/reports.md lists the versions.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError } from '../core/event-store.ts';
import { environmentSchema } from '../core/environment.ts';
import { backendResultSchema, LOAD_RESULT_SCHEMA_VERSION, loadResultSchema, scenarioSchema } from './load-result.ts';

/** The backend fields of schema version 2, which later versions keep: what a report and compare read. */
const renderableBackendSchema = backendResultSchema
  .pick({
    backend: true,
    capabilities: true,
    error: true,
    interrupted: true,
    measuredSeconds: true,
    throughput: true,
    latency: true,
    serviceTime: true,
    sendDelay: true,
    endToEnd: true,
    processing: true,
    totals: true,
    errors: true,
    dropped: true,
    late: true,
    consumer: true,
    storage: true,
    resources: true,
    timeline: true,
    maxSearch: true,
    thresholds: true,
    histograms: true,
  })
  // Blocks added by later versions (efficiency, runs, clientBound, pipeline, ...) pass through untouched.
  .loose();

export const renderableResultSchema = z
  .object({
    schemaVersion: z.number().int().positive(),
    tool: z.literal('eventbench'),
    createdAt: z.string(),
    environment: environmentSchema,
    scenario: scenarioSchema.loose(),
    backends: z.array(renderableBackendSchema),
    thresholdsPassed: z.boolean(),
    notes: z.array(z.string()),
  })
  .loose();

/** A load / bench result as the reports read it: every version's common fields, later blocks optional. */
export type RenderableResult = z.infer<typeof renderableResultSchema>;
export type RenderableBackend = RenderableResult['backends'][number];

export interface ResultFile {
  path: string;
  /** The version written in the file (before any upgrade). */
  schemaVersion: number;
  result: RenderableResult;
  /** The raw text, embedded as it was in report.html. */
  text: string;
}

type Json = Record<string, unknown>;

/**
 * Exact upgrades, keyed by the version they upgrade from. 1 -> 2: a max search's `limitFound` is whether
 * a step failed (what version 2 records), its `hint` is null.
 */
const UPGRADES: Record<number, (raw: Json) => Json> = {
  1: (raw) => ({
    ...raw,
    schemaVersion: 2,
    backends: (raw.backends as Json[]).map((b) => {
      const m = b.maxSearch as (Json & { steps: { passed: boolean }[] }) | null;
      return m ? { ...b, maxSearch: { ...m, limitFound: m.steps.some((s) => !s.passed), hint: null } } : b;
    }),
  }),
};

const OLDEST_READABLE = 1;

function refuse(path: string, why: string): never {
  throw new ConfigError(`${path}: ${why}`);
}

function firstIssue(err: z.ZodError): string {
  const issue = err.issues[0]!;
  return `${issue.path.length ? issue.path.join('.') : '(top level)'}: ${issue.message}`;
}

/** Validates the parsed JSON of a result file (any supported version); ConfigError otherwise. */
export function parseResult(raw: unknown, path: string): RenderableResult {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse(path, 'not an eventbench result (expected a JSON object)');
  const obj = raw as Json;
  if (obj.tool !== 'eventbench' || typeof obj.schemaVersion !== 'number') {
    refuse(path, `not an eventbench load or bench result (no "tool": "eventbench" and "schemaVersion"); give the result.json that eventbench load or bench --out wrote`);
  }
  const version = obj.schemaVersion as number;
  if (!Number.isInteger(version) || version < OLDEST_READABLE) refuse(path, `schema version ${version} is not one eventbench ever wrote`);
  if (version > LOAD_RESULT_SCHEMA_VERSION) {
    refuse(path, `schema version ${version} is newer than this eventbench reads (${OLDEST_READABLE} to ${LOAD_RESULT_SCHEMA_VERSION}); update eventbench to read it`);
  }
  if (!Array.isArray(obj.backends)) refuse(path, 'invalid result: backends: expected an array');
  if (version === LOAD_RESULT_SCHEMA_VERSION) {
    const parsed = loadResultSchema.safeParse(obj);
    if (!parsed.success) refuse(path, `invalid result (schema version ${version}): ${firstIssue(parsed.error)}`);
    return parsed.data;
  }
  let upgraded: Json = obj;
  for (let v = version; UPGRADES[v]; v++) upgraded = UPGRADES[v]!(upgraded);
  const parsed = renderableResultSchema.safeParse(upgraded);
  if (!parsed.success) {
    refuse(path, `schema version ${version} cannot be read by this eventbench (${firstIssue(parsed.error)}); re-run the benchmark with this version`);
  }
  return parsed.data;
}

/** Reads a JSON file; a missing, unreadable or non-JSON file is one ConfigError line naming it. */
export function readJsonFile(path: string): { raw: unknown; text: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory, not a result file' : e.code === 'EACCES' ? 'permission denied' : e.message;
    refuse(path, `${why}; give the result.json that eventbench load or bench --out wrote`);
  }
  try {
    return { raw: JSON.parse(text) as unknown, text };
  } catch (err) {
    refuse(path, `not JSON (${(err as Error).message.split('\n')[0]}); give the result.json that eventbench load or bench --out wrote`);
  }
}

/** Reads and validates a result file; every problem is one ConfigError line naming the file. */
export function readResultFile(path: string): ResultFile {
  const { raw, text } = readJsonFile(path);
  const result = parseResult(raw, path);
  return { path, schemaVersion: (raw as Json).schemaVersion as number, result, text };
}
