/**
 * A chaos scenario as data (`scenarios/chaos/<name>.yaml`, validated here): the load (writers, streams,
 * consumer), the fault timeline (ms from the start of the load; a fault's `target` is left out and means
 * "the server of the backend under test"), the drain time, and the expectations per backend. Loaded and
 * checked before any server starts, so a bad file or name is one line and exit 2.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../../core/event-store.ts';
import { ExpectationsSchema } from './judge.ts';
import { FaultSchema, parseFaultTimeline, type FaultTimeline } from './faults.ts';
import { TOPOLOGIES } from '../../core/environment.ts';

export const CHAOS_BACKENDS = ['postgres', 'jetstream'] as const;
export type ChaosBackend = (typeof CHAOS_BACKENDS)[number];

/** Where the scenarios shipped with eventbench live. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../../scenarios/chaos/', import.meta.url));

const ms = z.number().int().min(0).max(24 * 3_600_000);

/** A timeline entry as written in a scenario: the fault without `target` (set per backend). */
const ScenarioFaultSchema = z.record(z.string(), z.unknown()).refine((f) => !('target' in f), {
  message: 'leave "target" out: a scenario acts on the server of the backend under test',
});

export const ChaosScenarioSchema = z
  .object({
    description: z.string().min(1).max(200),
    /** Backends the scenario applies to; another backend is skipped with `skipReason`. */
    backends: z.array(z.enum(CHAOS_BACKENDS)).min(1).default([...CHAOS_BACKENDS]),
    skipReason: z.string().optional(),
    /** The topology the scenario runs on (docs/topologies.md); `--topology` may only repeat it. Default single. */
    topology: z.enum(TOPOLOGIES).default('single'),
    load: z
      .object({
        writers: z.number().int().min(1).max(256),
        /** `own`: each writer its own streams; `shared`: all writers race on `streams` streams (version conflicts). */
        streams: z.enum(['own', 'shared']),
        /** Streams per writer (`own`) or in all (`shared`). */
        streamCount: z.number().int().min(1).max(10_000),
        eventsPerAppend: z.number().int().min(1).max(100).default(1),
        /** Closed loop: each writer appends as soon as its previous append answered, for this long. */
        durationMs: ms.refine((x) => x >= 500, 'at least 500 ms'),
        /** An append unanswered this long is recorded `info` (outcome unknown). */
        opTimeoutMs: z.number().int().min(100).max(60_000).default(2_000),
        /** A durable consumer in its own process (the one `consumer_crash` kills), handling every event. */
        consumer: z.boolean().default(true),
        /** How long each delivery's handler takes (a kill then lands in mid-batch). */
        handleMs: z.number().int().min(0).max(1_000).default(0),
        /**
         * The consumer's ack wait: a delivery unacknowledged this long goes to the next consumer (or the same
         * one again). A fault longer than this makes a consumer that is still alive lose its lease.
         */
        ackWaitMs: z.number().int().min(100).max(600_000).default(5_000),
      })
      .strict(),
    faults: z.array(z.object({ at: ms, duration: ms.optional(), fault: ScenarioFaultSchema }).strict()).max(100),
    /** After the load and the faults: the longest wait for the consumer to handle everything stored. */
    drainMs: z.number().int().min(0).max(600_000).default(60_000),
    expectations: z.partialRecord(z.enum(CHAOS_BACKENDS), ExpectationsSchema).default({}),
  })
  .strict();
export type ChaosScenario = z.output<typeof ChaosScenarioSchema> & { name: string };

const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Names of the scenarios in `dir` (file names without `.yaml`), sorted. */
export function scenarioNames(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .filter((n) => NAME.test(n))
    .sort();
}

/** Loads and validates one scenario; `ConfigError` (one line) for an unknown name or a bad file. */
export function loadScenario(name: string, dir = SCENARIO_DIR): ChaosScenario {
  const names = scenarioNames(dir);
  if (!names.includes(name)) throw new ConfigError(`unknown chaos scenario ${JSON.stringify(name)}: available: ${names.join(', ')} (eventbench chaos --list)`);
  const file = join(dir, `${name}.yaml`);
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const r = ChaosScenarioSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`${file}: ${issue.path.join('.') || '(scenario)'}: ${issue.message}`);
  }
  const scenario = { ...r.data, name };
  // Every timeline must parse for each backend it runs on: a broken fault is refused now, not mid-run.
  for (const backend of scenario.backends) {
    try {
      timelineFor(scenario, backend, 1);
    } catch (err) {
      throw new ConfigError(`${file}: ${(err as Error).message}`);
    }
  }
  return scenario;
}

/** The fault timeline for one backend, times multiplied by `scale` (from `--duration`). */
export function timelineFor(scenario: ChaosScenario, backend: ChaosBackend, scale: number): FaultTimeline {
  const target = backend === 'postgres' ? 'postgres' : 'nats';
  return parseFaultTimeline(
    scenario.faults.map((f) => {
      const kind = f.fault.kind;
      const needsTarget = kind === 'network' || kind === 'kill' || kind === 'pause';
      return {
        at: Math.round(f.at * scale),
        ...(f.duration === undefined ? {} : { duration: Math.round(f.duration * scale) }),
        fault: needsTarget ? { ...f.fault, target } : f.fault,
      };
    }),
  );
}

/** Fault kinds that signal a server process: only for servers eventbench started. */
export function processFaultKinds(scenario: ChaosScenario): string[] {
  const kinds = new Set(scenario.faults.map((f) => String(f.fault.kind)).filter((k) => ['kill', 'pause', 'pg_terminate_backend', 'node_kill', 'node_partition', 'standby_kill'].includes(k)));
  return [...kinds];
}

export function hasNetworkFaults(scenario: ChaosScenario): boolean {
  return scenario.faults.some((f) => f.fault.kind === 'network');
}

// FaultSchema is the one definition of a fault; re-exported so a reader of a scenario finds it from here.
export { FaultSchema };
