/**
 * The bounds of what a load run accepts, in one place (option parsing, the executors and `--help` read
 * them from here).
 *
 * MAX_RATE_PER_SEC: the schedule gives every append its own intended send time, and the fastest
 * backend there is (memory, in process) ran ~70k appends/s through the load runner and ~107k/s alone on
 * this project's 2-core machine (`results/harness/2026-11-25T17-55-57-015Z.md`). 1,000,000/s is ten times
 * that, room for bigger machines; above it a run could only measure dropped sends. It bounds the total
 * over all workers, every ramp stage and every max step.
 */
export const MAX_RATE_PER_SEC = 1_000_000;
/** The longest `--duration` (and warm-up): 7 days; a longer run is a typo, not a soak test. */
export const MAX_DURATION_MS = 7 * 24 * 3_600_000;
/** Worker threads at most; each costs a Node isolate (~1 s of CPU to start here) and a store connection. */
export const MAX_WORKERS = 64;
/**
 * And at most this many per core: a worker takes 1-1.5 s of CPU to start (tsx, drivers, faker; 8
 * workers used 14.6 s of CPU on this project's 2-core machine, 2026-12-04), and `--workers 64` on 2 cores
 * spent over 4 minutes starting for a 2 s run. Beyond a few per core workers only share the cores.
 */
export const MAX_WORKERS_PER_CORE = 4;
