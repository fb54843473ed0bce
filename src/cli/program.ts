import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { ConfigError, StoreUnavailableError } from '../core/event-store.ts';
import { UsageError } from './errors.ts';
import { registerDoctor } from './commands/doctor.ts';
import { registerInit } from './commands/init.ts';
import { registerLoad } from './commands/load.ts';
import { registerBench } from './commands/bench.ts';
import { registerGenerate } from './commands/generate.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Exit codes, as k6 uses them: 99 is a broken threshold. */
export const EXIT = { ok: 0, failure: 1, badInput: 2, thresholds: 99, interrupted: 130 } as const;

export function buildProgram(): Command {
  const program = new Command('eventbench')
    .description('Should your events live in PostgreSQL or NATS JetStream? Measure it.')
    .version(pkg.version, '-V, --version')
    .option('--verbose', 'print stack traces and debug logs')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  // One line per command module; each module owns its flags and its action.
  registerDoctor(program);
  registerInit(program);
  registerLoad(program);
  registerBench(program);
  registerGenerate(program);
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
}

export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CommanderError) {
    // commander already printed its message (help, version, unknown option).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    return EXIT.badInput;
  }
  const e = err as Error;
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof StoreUnavailableError) {
    process.stderr.write(`eventbench: ${e.message}\n`);
    if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
    return EXIT.badInput;
  }
  process.stderr.write(`eventbench: ${e?.message ?? String(err)}\n`);
  if (verbose && e?.stack) process.stderr.write(`${e.stack}\n`);
  else process.stderr.write('(run with --verbose for the stack trace)\n');
  return EXIT.failure;
}
