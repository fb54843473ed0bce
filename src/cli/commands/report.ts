/**
 * `eventbench report result.json [--out report.html]`: renders the self-contained HTML report of any
 * load / bench result file (every schema version this eventbench reads; docs/reports.md), or of a chaos
 * run's verdict.json. The input is read and validated, and the output path checked, before anything is
 * written.
 */
import type { Command } from 'commander';
import { renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { environmentSchema } from '../../core/environment.ts';
import { ConfigError } from '../../core/event-store.ts';
import { renderChaosReport, type ChaosRunView } from '../../report/html/chaos.ts';
import { renderHtmlReport } from '../../report/html/render.ts';
import { LOAD_RESULT_SCHEMA_VERSION } from '../../report/load-result.ts';
import { parseResult, readJsonFile } from '../../report/result-file.ts';
import { VerdictSchema } from '../../runners/chaos/verdict.ts';

/** The output file: its directory must exist; an existing directory at the path itself is refused. */
function checkOutPath(path: string): string {
  if (path.trim() === '') throw new ConfigError('--out is empty; give a file name such as report.html');
  const target = resolve(path);
  if (statSync(target, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(`--out ${JSON.stringify(path)} is a directory; give a file name such as ${join(path, 'report.html')}`);
  const parent = statSync(dirname(target), { throwIfNoEntry: false });
  if (!parent?.isDirectory()) throw new ConfigError(`--out ${JSON.stringify(path)}: directory ${dirname(target)} does not exist; create it first`);
  return target;
}

/**
 * A chaos run's verdict.json (src/runners/chaos/run.ts writes it): the fields the chaos page reads. Checked
 * here, not in src/report: the verdict's schema is the chaos runner's, which src/report may not import.
 */
const chaosRunSchema = z.looseObject({
  backend: z.string(),
  scenario: z.looseObject({ name: z.string(), description: z.string().optional(), timeline: z.array(z.looseObject({ at: z.number(), duration: z.number().optional(), fault: z.looseObject({ kind: z.string(), target: z.string().optional() }) })).optional() }),
  runId: z.string(),
  interrupted: z.boolean(),
  loadMs: z.number(),
  drained: z.boolean().nullable(),
  writers: z.object({ ok: z.number(), fail: z.number(), info: z.number(), unsettled: z.number() }),
  verdict: VerdictSchema,
  broken: z.array(z.looseObject({ expectation: z.string(), limit: z.number(), actual: z.number(), message: z.string() })),
  limitations: z.string().optional(),
  faultError: z.string().optional(),
  environment: environmentSchema.nullable().optional(),
});

const isChaosRun = (raw: unknown): boolean => typeof raw === 'object' && raw !== null && 'verdict' in raw && 'backend' in raw && !('tool' in raw);

/** The page of a load / bench result, or of a chaos run's verdict.json. */
function renderFile(file: string): string {
  const { raw, text } = readJsonFile(file);
  if (isChaosRun(raw)) {
    const parsed = chaosRunSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new ConfigError(`${file}: invalid chaos verdict (${issue.path.join('.') || '(top level)'}: ${issue.message}); give the verdict.json that eventbench chaos --out wrote`);
    }
    return renderChaosReport(parsed.data as ChaosRunView, text);
  }
  const result = parseResult(raw, file);
  const version = (raw as { schemaVersion: number }).schemaVersion;
  return renderHtmlReport(result, {
    rawJson: text,
    ...(version < LOAD_RESULT_SCHEMA_VERSION ? { sourceNote: `Read from a file of schema version ${version} (this eventbench writes ${LOAD_RESULT_SCHEMA_VERSION}); fields added since are absent.` } : {}),
  });
}

/** A directory a run wrote (`--out d`) stands for the result file in it. */
function resolveInput(path: string): string {
  if (!statSync(path, { throwIfNoEntry: false })?.isDirectory()) return path;
  for (const name of ['result.json', 'verdict.json']) if (statSync(join(path, name), { throwIfNoEntry: false })?.isFile()) return join(path, name);
  throw new ConfigError(`${path} is a directory without a result.json or verdict.json; give the --out directory of a load, bench or chaos run, or a result file`);
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('render report.html (charts, tables, environment; opens without a network) from a result.json of load or bench, or a verdict.json of chaos')
    .argument('<result.json>', 'a result file written by eventbench load or bench --out (or a chaos run\'s verdict.json), or the directory holding it')
    .option('--out <file>', 'where to write the report (default: report.html next to the result file)')
    .action((input: string, opts: { out?: string }) => {
      const file = resolveInput(input);
      const out = checkOutPath(opts.out ?? join(dirname(file), 'report.html'));
      const html = renderFile(file);
      const tmp = `${out}.${process.pid}.tmp`;
      try {
        writeFileSync(tmp, html);
        renameSync(tmp, out);
      } catch (err) {
        rmSync(tmp, { force: true });
        const e = err as NodeJS.ErrnoException;
        throw new ConfigError(`--out ${JSON.stringify(opts.out ?? out)}: cannot write (${e.code ?? e.message}); choose a file you can write to`);
      }
      process.stdout.write(`${out}\n`);
    });
}
