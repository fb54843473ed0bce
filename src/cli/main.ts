/**
 * eventbench command line. Each command lives in its own file under src/cli/commands and is
 * registered in program.ts; exit codes in exit-codes.ts.
 */
// Before anything else loads: from here on a signal at any moment stops what was started and exits
// 128 + n (see process-registry.ts). The registry is free of drivers, so this costs nothing.
import { installCliSignalHandling } from '../infra/process-registry.ts';

installCliSignalHandling();
const { buildProgram, runProgram } = await import('./program.ts');
await runProgram(buildProgram(), process.argv);
