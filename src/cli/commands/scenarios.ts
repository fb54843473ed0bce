/**
 * `eventbench scenarios [--json]`: the bench scenarios shipped in scenarios/bench/ (name, description,
 * what it runs, and what `--quick` runs instead), each validated as `bench --scenario` would load it.
 */
import type { Command } from 'commander';
import { describeRun, loadBenchScenarios, scenarioFlags } from '../../runners/bench/scenario-catalog.ts';

export function registerScenarios(program: Command): void {
  program
    .command('scenarios')
    .description('list the bench scenarios (scenarios/bench/*.yaml) that `eventbench bench --scenario NAME [--quick]` runs')
    .option('--json', 'print the scenarios as JSON (name, description, file, runs, quick, and the flag values each resolves to)')
    .action((opts: { json?: boolean }) => {
      const all = loadBenchScenarios();
      if (opts.json) {
        const rows = all.map((s) => ({
          name: s.name,
          description: s.description,
          file: s.file,
          runs: describeRun(s),
          quick: describeRun(s, true),
          flags: scenarioFlags(s, false),
          quickFlags: scenarioFlags(s, true),
        }));
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const width = Math.max(...all.map((s) => s.name.length));
      const lines = all.flatMap((s) => [`${s.name.padEnd(width)}  ${s.description}`, `${' '.repeat(width)}  runs:    ${describeRun(s)}`, `${' '.repeat(width)}  --quick: ${describeRun(s, true)}`]);
      process.stdout.write(`${lines.join('\n')}\n\nrun one: eventbench bench --scenario NAME [--quick] (flags given override the scenario's values)\n`);
    });
}
