/**
 * Bad input to `load` and `bench` is refused before anything starts: exit 2, exactly one stderr line,
 * under 5 s (on a busy machine: under two bare CLI starts), no server started and nothing written. Each case runs with its own TMPDIR, where managed
 * servers (`eventbench-pg-*`, `eventbench-nats-*`) and bench's default output (`eventbench-bench-*`)
 * would appear: it must still be empty afterwards. The backends are the real ones with `--infra
 * managed`, so a check made too late would start a server.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventbench } from './cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-bad-input-'));
const aFile = join(dir, 'a-file');
writeFileSync(aFile, 'not a directory\n');
let busy: Server;
let busyPort = 0;

beforeAll(async () => {
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A private TMPDIR for one run. tsx keeps its compile cache in `<tmpdir>/tsx-<uid>`: linked to the
 * shared one, so the CLI starts as fast as usual and the cache is not mistaken for a run's directory.
 */
const TSX_CACHE = `tsx-${process.getuid?.() ?? 0}`;
function privateTmp(): string {
  const tmp = mkdtempSync(join(dir, 'tmp-'));
  mkdirSync(join(tmpdir(), TSX_CACHE), { recursive: true });
  symlinkSync(join(tmpdir(), TSX_CACHE), join(tmp, TSX_CACHE));
  return tmp;
}
const leftIn = (tmp: string): string[] => readdirSync(tmp).filter((n) => n !== TSX_CACHE);

/** CLI starts at once: one per core (each start costs ~1 s of CPU for tsx), so the 5 s bound measures the CLI, not the queue. */
const slots = { free: Math.max(1, availableParallelism()), waiting: [] as (() => void)[] };
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (slots.free > 0) slots.free -= 1;
  else await new Promise<void>((resolve) => slots.waiting.push(resolve));
  try {
    return await fn();
  } finally {
    const next = slots.waiting.shift();
    if (next) next();
    else slots.free += 1;
  }
}

type Case = [what: string, args: () => string[], message: RegExp];

const load = ['load', '--backend', 'postgres', '--infra', 'managed', '--duration', '2s'];
const bench = ['bench', '--backends', 'postgres,jetstream', '--infra', 'managed', '--duration', '2s'];
const newOut = (name: string): string => join(dir, 'never', name);

const cases: Case[] = [
  // point 1: --out checked before the run
  ['load --out an existing file', () => [...load, '--out', aFile], /--out ".*a-file": exists and is not a directory/],
  ['load --out below a file (ENOTDIR)', () => [...load, '--out', join(aFile, 'sub')], /--out ".*a-file\/sub": .*(ENOTDIR|not a directory)/],
  ['load --out in /proc', () => [...load, '--out', '/proc/eventbench-x'], /--out "\/proc\/eventbench-x": cannot be created there/],
  ['bench --out an existing file', () => [...bench, '--out', aFile], /--out ".*a-file": exists and is not a directory/],
  ['bench --out in /proc', () => [...bench, '--out', '/proc/eventbench-x/y'], /--out "\/proc\/eventbench-x\/y"/],
  ['load --out fine but --metrics-port in use', () => [...load, '--out', newOut('port'), '--metrics-port', String(busyPort)], /--metrics-port \d+: cannot listen/],
  ['bench without --out, --metrics-port in use (its temp dir is removed)', () => [...bench, '--metrics-port', String(busyPort)], /--metrics-port \d+: cannot listen/],
  ['bench with a bad rate (no temp dir left)', () => [...bench, '--rate', 'fast'], /--rate "fast" is not a rate/],
  // point 2: rates without bounds
  ['a rate in exponent notation', () => [...load, '--rate', '1e12/s', '--out', newOut('e12')], /--rate "1e12\/s": exponent notation is not accepted; write the number out/],
  ['a rate above the limit', () => [...load, '--rate', '1000000000/s'], /--rate "1000000000\/s" is 1,000,000,000\/s, above the limit of 1,000,000\/s/],
  ['a ramp stage above the limit', () => [...load, '--stages', '100/s:1s,2000k/s:1s'], /--stages "2000k\/s" is 2,000,000\/s, above the limit/],
  // point 3: more workers than the machine can start in time
  ['more than 4 workers per core', () => [...load, '--workers', String(4 * availableParallelism() + 1)], /--workers \d+: at most \d+ on this machine's \d+ cores/],
  // point 4: duration bounded
  ['a duration of 99999h', () => [...load, '--duration', '99999h'], /--duration "99999h" is longer than the limit of 7d/],
  ['a ramp longer than 7 days', () => [...load, '--stages', '10/s:5d,10/s:3d'], /--stages: the stages last 8d together, longer than the limit of 7d/],
  // point 5: ratio thresholds
  ['error_rate<5 (500 %)', () => [...load, '--threshold', 'error_rate<5'], /--threshold "error_rate<5": "5" is a fraction above 1/],
  ['dropped_rate<150%', () => [...load, '--threshold', 'dropped_rate<150%'], /--threshold "dropped_rate<150%": "150%" is over 100%/],
  // point 6: conflicting flags, both ways
  ['--writers with --rate', () => [...load, '--writers', '4', '--rate', '100/s'], /--rate cannot be combined with --writers/],
  ['--writers with --stages', () => [...load, '--writers', '4', '--stages', '10/s:1s'], /--writers cannot be combined with --stages/],
  ['--writers with --executor max', () => [...load, '--writers', '4', '--executor', 'max'], /--writers cannot be combined with --executor max/],
  ['--writers with --executor constant', () => [...load, '--executor', 'constant', '--writers', '4'], /--writers cannot be combined with --executor constant/],
  ['--writers with --executor ramp', () => [...load, '--executor', 'ramp', '--stages', '10/s:1s', '--writers', '4'], /--writers cannot be combined with --executor ramp/],
  ['--rate with --executor closed', () => [...load, '--executor', 'closed', '--rate', '100/s'], /--rate cannot be combined with --executor closed/],
  ['--stages with --executor closed', () => [...load, '--executor', 'closed', '--stages', '10/s:1s'], /--stages cannot be combined with --executor closed/],
  ['--stages with --executor constant', () => [...load, '--executor', 'constant', '--stages', '10/s:1s'], /--stages cannot be combined with --executor constant/],
  ['--stages with --executor max', () => [...load, '--executor', 'max', '--stages', '10/s:1s'], /--stages cannot be combined with --executor max/],
  ['--slo without max', () => [...load, '--slo', 'p99<5ms'], /--slo cannot be combined with --executor constant \(the default\)/],
  ['--step-duration with closed', () => [...load, '--writers', '2', '--step-duration', '1s'], /--step-duration cannot be combined with --writers/],
  ['--executor ramp without --stages', () => [...load, '--executor', 'ramp'], /--executor ramp needs --stages/],
  ['a step longer than the search', () => [...load, '--executor', 'max', '--step-duration', '5s'], /--step-duration 5s is longer than --duration/],
];

describe.concurrent('bad input to load and bench: exit 2, one line, nothing started or written', () => {
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const tmp = privateTmp();
      const argv = args();
      const outIndex = argv.indexOf('--out');
      const out = outIndex >= 0 ? argv[outIndex + 1]! : null;
      const outExisted = out !== null && existsSync(out);
      const { r, elapsed, bareStart } = await withSlot(async () => {
        const started = Date.now();
        const run = await eventbench(argv, 20_000, { TMPDIR: tmp });
        const elapsed = Date.now() - started;
        // Over 5 s only when the machine is busy (other test files share the 2 cores): then the refusal
        // must still cost no more than a bare CLI start measured right after it.
        let bareStart = 0;
        if (elapsed >= 5000) {
          const t = Date.now();
          await eventbench(['--version'], 20_000, { TMPDIR: tmp });
          bareStart = Date.now() - t;
        }
        return { r: run, elapsed, bareStart };
      });
      expect(r.stderr).toMatch(message);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stdout).toBe('');
      if (elapsed >= 5000) expect(elapsed, `refused after ${elapsed} ms; a bare CLI start took ${bareStart} ms`).toBeLessThan(2 * bareStart);
      // No managed server's directory, no bench output directory: nothing was started or written.
      expect(leftIn(tmp)).toEqual([]);
      if (out !== null && !outExisted) expect(existsSync(out), `${out} was created`).toBe(false);
    }, 120_000);
  }
});

it('leaves a directory given to --out alone when it already existed', async () => {
  const out = join(dir, 'existing-out');
  mkdirSync(out);
  const tmp = privateTmp();
  const r = await eventbench([...load, '--out', out, '--rate', '1e3/s'], 20_000, { TMPDIR: tmp });
  expect(r.code).toBe(2);
  expect(existsSync(out)).toBe(true);
  expect(readdirSync(out)).toEqual([]);
}, 30_000);
