/**
 * eventbench command line. Each command lives in its own file under src/cli/commands and is
 * registered here; exit codes: 0 ok, 2 bad input or unreachable server, 99 a broken threshold.
 */
import { buildProgram, runProgram } from './program.ts';

await runProgram(buildProgram(), process.argv);
