/**
 * `eventbench merge a.json b.json ... --out DIR`: one result from the results of N load generators that
 * ran one schedule (`load --start-at ... --generator-id i`), added up exactly (src/report/merge.ts), with
 * the scenario's thresholds judged on the merged numbers, written as result.json, summary.md and
 * report.html like any run. Exit 0, 99 when a threshold breaks, 2 for inputs that cannot be merged.
 */
import type { Command } from 'commander';
import { mergeResults } from '../../report/merge.ts';
import { formatTerminalSummary } from '../../report/load-summary.ts';
import { prepareOutDir } from '../../report/out-dir.ts';
import { readJsonFile } from '../../report/result-file.ts';
import { thresholdValues } from '../../report/result-assembly.ts';
import { writeLoadResult } from '../../report/write-result.ts';
import { evaluateThresholds, parseThreshold } from '../../runners/load/thresholds.ts';
import { EXIT } from '../exit-codes.ts';

export function registerMerge(program: Command): void {
  program
    .command('merge')
    .description('add up the results of several load generators that ran together (load --start-at --generator-id) into one result: histograms added exactly, rates summed')
    .argument('<results...>', "each generator's result.json")
    .requiredOption('--out <dir>', 'write the merged result.json, summary.md and report.html here (created; checked before anything is read)')
    .option('--json', 'print the merged result JSON to stdout instead of the table')
    .action((files: string[], opts: { out: string; json?: boolean }) => {
      const out = prepareOutDir(opts.out);
      try {
        const merged = mergeResults(files.map((file) => ({ file, raw: readJsonFile(file).raw })));
        // The thresholds every generator was given, judged on the whole: a p99 of the merged histogram.
        const thresholds = merged.scenario.thresholds.map((t) => parseThreshold(t));
        for (const b of merged.backends) b.thresholds = evaluateThresholds(thresholds, thresholdValues(b));
        merged.thresholdsPassed = merged.backends.every((b) => b.thresholds.every((t) => t.passed));
        const paths = writeLoadResult(out.path, merged);
        out.keep();
        process.stderr.write(`eventbench: merged ${files.length} results into ${paths.json}, ${paths.summary} and ${paths.html}\n`);
        process.stdout.write(opts.json ? `${JSON.stringify(merged, null, 2)}\n` : `${formatTerminalSummary(merged)}\n`);
        process.exitCode = merged.thresholdsPassed ? EXIT.ok : EXIT.thresholds;
      } finally {
        out.release();
      }
    });
}
