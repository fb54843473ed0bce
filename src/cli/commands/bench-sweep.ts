/**
 * `eventbench bench --sweep <parameter>=<v1>,<v2>,...`: one whole bench per value (its own managed servers,
 * run id and namespace, its full result under `<out>/<parameter>-<value>/`), then one result at `<out>`:
 * the last point's result with the `sweep` block of every point, whose tables and charts show how each
 * backend's cost grows with the parameter (docs/bench.md "Sweeps"). Every point is parsed and the total
 * time bounded before the first server starts.
 */
import { join } from 'node:path';
import { ConfigError } from '../../core/event-store.ts';
import type { SweepPoint } from '../../report/load-result.ts';
import { prepareOutDir, type OutDir } from '../../report/out-dir.ts';
import { sweepTables, textTable } from '../../report/tables.ts';
import { writeLoadResult } from '../../report/write-result.ts';
import { checkSweepFits, checkSweepTime, estimateSweepMs, parseSweep, sweepBlock, sweepPoint, SWEEP_FLAGS, type SweepSpec } from '../../runners/bench/sweep.ts';
import type { BackendName } from '../../store/index.ts';
import { EXIT } from '../exit-codes.ts';
import { checkRunFits, parseLoadOptions, runLoadCommand, type LoadCliOptions, type ParsedLoad, type RunCommandInput } from './load.ts';

export interface SweepPlan {
  spec: SweepSpec;
  points: { value: number; parsed: ParsedLoad }[];
  plannedMs: number;
}

/**
 * Parses the spec and every point as if its value had been given as the flag (so the flag's own checks
 * apply), refuses what the run cannot honour and a sweep longer than the bound. ConfigError (exit 2).
 */
export function planSweep(
  text: string,
  opts: LoadCliOptions,
  isFromCli: (key: string) => boolean,
  backends: BackendName[],
  bench: { runs: number; baseline: boolean; latencyAt: number[] },
  defaults: { rate: string },
): SweepPlan {
  const spec = parseSweep(text);
  const { option, flag } = SWEEP_FLAGS[spec.parameter];
  if (isFromCli(option)) throw new ConfigError(`--sweep ${spec.parameter} and ${flag} both given: the sweep sets ${flag} for each point; drop ${flag}`);
  // Said in the sweep's words before the swept flag's own check would say it in its words.
  checkSweepFits(spec, { workload: opts.workload });
  const points = spec.values.map((value, i) => {
    const parsed = parseLoadOptions({ ...opts, [option]: String(value) }, defaults);
    checkRunFits(backends, parsed);
    checkSweepFits(spec, parsed.scenario);
    // Each point's streams, event ids and tables are its own, also on one external server.
    parsed.scenario = { ...parsed.scenario, runId: `${parsed.scenario.runId.slice(0, 15)}p${i}` };
    parsed.namespace = `${parsed.namespace}_p${i}`;
    return { value, parsed };
  });
  const first = points[0]!.parsed.scenario;
  const plannedMs = estimateSweepMs(points.length, first, { backends: backends.length, baseline: bench.baseline, runs: bench.runs, latencyAt: bench.latencyAt.length });
  checkSweepTime(spec, plannedMs);
  return { spec, points, plannedMs };
}

/** Runs the points in order; returns the worst exit code (interrupted, then thresholds, then failure). */
export async function runSweep(plan: SweepPlan, input: Omit<RunCommandInput, 'parsed' | 'out' | 'json'> & { json?: boolean }, out: OutDir): Promise<number> {
  const { spec } = plan;
  const points: SweepPoint[] = [];
  const codes: number[] = [];
  let last: Awaited<ReturnType<typeof runLoadCommand>>['result'] | null = null;
  try {
    process.stderr.write(`eventbench: sweep over ${spec.parameter} = ${spec.values.join(', ')}: ${plan.points.length} benches, planned about ${Math.ceil(plan.plannedMs / 60_000)} min\n`);
    for (const [i, point] of plan.points.entries()) {
      const dirName = `${spec.parameter}-${point.value}`;
      process.stderr.write(`eventbench: sweep point ${i + 1}/${plan.points.length}: ${spec.parameter}=${point.value}\n`);
      const { exitCode, result } = await runLoadCommand({ ...input, json: false, parsed: point.parsed, out: prepareOutDir(join(out.path, dirName)) });
      codes.push(exitCode);
      points.push(sweepPoint(point.value, result, exitCode, dirName));
      last = result;
      if (exitCode === EXIT.interrupted) break;
    }
    if (!last) return EXIT.interrupted;
    const sweep = sweepBlock(spec, points);
    const interrupted = points.length < plan.points.length;
    const result = {
      ...last,
      sweep,
      notes: [
        ...last.notes,
        `sweep over ${spec.parameter} = ${spec.values.join(', ')}${interrupted ? ` (interrupted after ${points.length})` : ''}: the result's other tables and charts are its last point (${spec.parameter}=${points.at(-1)!.value}); every point's full result is in its own folder (${points.map((p) => p.dir).join(', ')})`,
      ],
    };
    const paths = writeLoadResult(out.path, result);
    out.keep();
    process.stderr.write(`eventbench: wrote ${paths.json}, ${paths.summary} and ${paths.html}\n`);
    process.stdout.write(input.json ? `${JSON.stringify(result, null, 2)}\n` : `\n${sweepTables(result).map(textTable).join('\n\n')}\n`);
  } finally {
    out.release();
  }
  if (codes.includes(EXIT.interrupted)) return EXIT.interrupted;
  if (codes.includes(EXIT.thresholds)) return EXIT.thresholds;
  if (codes.some((c) => c !== EXIT.ok)) return EXIT.failure;
  return EXIT.ok;
}
