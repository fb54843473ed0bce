/**
 * The process exit codes of every command, defined once. k6 uses 99 for a broken threshold; 130 is the
 * shell's code for a process ended by SIGINT (128 + 2), which eventbench returns after writing partial
 * results.
 */
export const EXIT = { ok: 0, failure: 1, badInput: 2, thresholds: 99, interrupted: 130 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
