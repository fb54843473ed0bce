import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, StoreUnavailableError } from '../core/event-store.ts';
import { exitCodeForSignal, shutdownSignal } from '../infra/process-registry.ts';
import { UsageError } from './errors.ts';
import { EXIT } from './exit-codes.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerInit } from './commands/init.ts';
import { registerLoad } from './commands/load.ts';
import { registerBench } from './commands/bench.ts';
import { registerGenerate } from './commands/generate.ts';
import { registerChaos } from './commands/chaos.ts';
import { registerReport } from './commands/report.ts';
import { registerCompare } from './commands/compare.ts';
import { registerMerge } from './commands/merge.ts';
import { registerScenarios } from './commands/scenarios.ts';
import { registerSchemas } from './commands/schemas.ts';
import { registerServe } from './commands/serve.ts';
import { registerStreams } from './commands/streams.ts';
import { registerBackup } from './commands/backup.ts';
import { registerRestore } from './commands/restore.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Printed under every command's --help: what a script calling eventbench can rely on. */
const EXIT_CODES_HELP = `
Exit codes:
  ${EXIT.ok}    success
  ${EXIT.failure}    a run failed (an error during the run, a failed backend in bench, a store that differs in init)
  ${EXIT.badInput}    bad input or an unusable server (one line says what and how to fix it; nothing was started)
  ${EXIT.thresholds}   a --threshold was broken
  ${EXIT.interrupted}  interrupted (Ctrl-C): servers stopped, temp dirs removed, partial results where there are any`;

export function buildProgram(): Command {
  const program = new Command('eventbench')
    .description('Should your events live in PostgreSQL or NATS JetStream? Measure it.')
    .version(pkg.version, '-V, --version')
    .option('--verbose', 'print stack traces and debug logs')
    .exitOverride();
  // One line per command module; each module owns its flags and its action.
  registerDoctor(program);
  registerInit(program);
  registerLoad(program);
  registerBench(program);
  registerGenerate(program);
  registerChaos(program);
  registerReport(program);
  registerCompare(program);
  registerMerge(program);
  registerScenarios(program);
  registerSchemas(program);
  registerServe(program);
  registerStreams(program);
  registerBackup(program);
  registerRestore(program);
  for (const cmd of [program, ...program.commands]) {
    cmd.addHelpText('after', EXIT_CODES_HELP);
    // commander's errors ("error: unknown option '--foo'", a "(Did you mean ...?)" line) become the
    // one line every bad input gets, pointing at the command's help.
    const helpHint = cmd === program ? 'eventbench --help' : `eventbench ${cmd.name()} --help`;
    cmd.configureOutput({
      outputError: (str, write) => write(`eventbench: ${str.replace(/^error:\s*/, '').replace(/\s*\n\s*/g, ' ').trim()} (see ${helpHint})\n`),
    });
  }
  return program;
}

/** Runs the program and turns errors into one clear line and an exit code (stack only with --verbose). */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err, verbose);
  }
  // A signal arrived and the process registry is stopping what was started: whatever the command did
  // meanwhile (an error from a server it just lost), the outcome is the signal's exit code.
  const signal = shutdownSignal();
  if (signal) process.exitCode = exitCodeForSignal(signal);
}

export function reportError(err: unknown, verbose: boolean): number {
  const signal = shutdownSignal();
  if (signal) {
    // The error is a consequence of the shutdown (a server stopped under the command): not news.
    if (verbose) process.stderr.write(`eventbench: after ${signal}: ${(err as Error)?.stack ?? String(err)}\n`);
    return exitCodeForSignal(signal);
  }
  if (err instanceof CommanderError) {
    // commander already printed its message (help, version, or the one-line error above).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    return EXIT.badInput;
  }
  const e = err as Error;
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof StoreUnavailableError) {
    process.stderr.write(`eventbench: ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return EXIT.badInput;
  }
  const message = (e?.message ?? String(err)).replace(/\s*\n\s*/g, ' ');
  if (verbose && e?.stack) process.stderr.write(`eventbench: ${message}\n${e.stack}\n`);
  else process.stderr.write(`eventbench: ${message} (run with --verbose for the stack trace)\n`);
  return EXIT.failure;
}
