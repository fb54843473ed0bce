/**
 * `eventbench compare a.json b.json [--fail-on 10%] [--noise 5%]`: what got better or worse from a to b
 * beyond noise (src/report/compare.ts; docs/reports.md). Exit 0: no regression beyond --fail-on; 1: at
 * least one; 2: a file is missing or invalid, or the two results are not comparable (one line saying
 * what differs; the environment differences are printed first).
 */
import type { Command } from 'commander';
import { ConfigError } from '../../core/event-store.ts';
import { comparabilityProblems, compareResults, DEFAULT_FAIL_ON, DEFAULT_NOISE, environmentDifferences, formatComparison } from '../../report/compare.ts';
import { readResultFile } from '../../report/result-file.ts';
import { EXIT } from '../exit-codes.ts';

/** `10%`, `2.5%` or a fraction `0.1` -> 0.1; anything else is a ConfigError naming the flag. */
export function parsePercent(text: string, flag: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const value = m ? (m[2] ? Number(m[1]) / 100 : Number(m[1])) : Number.NaN;
  if (!m || !Number.isFinite(value) || (!m[2] && value > 1)) throw new ConfigError(`${flag} ${JSON.stringify(text)}: expected a percentage such as 10% (or a fraction 0-1 such as 0.1)`);
  return value;
}

export function registerCompare(program: Command): void {
  program
    .command('compare')
    .description('compare two results (a = before, b = after): per metric the change and better / worse / within noise; exit 1 on a regression beyond --fail-on')
    .argument('<a.json>', 'the earlier result (the baseline)')
    .argument('<b.json>', 'the later result')
    .option('--fail-on <percent>', 'exit 1 when a metric got worse beyond noise by more than this', `${DEFAULT_FAIL_ON * 100}%`)
    .option('--noise <percent>', 'change within which a metric counts as noise when neither result has several runs', `${DEFAULT_NOISE * 100}%`)
    .option('--json', 'print the comparison as JSON')
    .addHelpText('after', '\nFor compare: exit 1 means a regression beyond noise larger than --fail-on; 2 a missing or invalid file, or two results that are not comparable.')
    .action((fileA: string, fileB: string, opts: { failOn: string; noise: string; json?: boolean }) => {
      const failOn = parsePercent(opts.failOn, '--fail-on');
      const noise = parsePercent(opts.noise, '--noise');
      const a = readResultFile(fileA).result;
      const b = readResultFile(fileB).result;
      const problems = comparabilityProblems(a, b);
      if (problems.length) {
        const env = environmentDifferences(a, b);
        if (env.length) process.stdout.write(`environment differences:\n${env.map((d) => `  ${d}`).join('\n')}\n`);
        throw new ConfigError(`${fileA} and ${fileB} are not comparable: ${problems.join('; ')}; compare runs of the same scenario`);
      }
      const comparison = compareResults(a, b, { failOn, noise });
      process.stdout.write(opts.json ? `${JSON.stringify(comparison, null, 2)}\n` : `${formatComparison(comparison, fileA, fileB)}\n`);
      process.exitCode = comparison.regressions.length ? EXIT.failure : EXIT.ok;
    });
}
