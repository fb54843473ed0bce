/**
 * `eventbench chaos` as a user runs it (node bin/eventbench.js, managed throwaway servers): the case design's (docs/case-processing.md)
 * `chaos --backend both --scenario network_partition` ends with zero lost on both backends and writes its
 * files; bad input is refused with one line, exit 2, before any server starts; `--list` lists every
 * scenario file; Ctrl-C in the middle of a run exits 130 with a partial verdict and leaves no process
 * and no temp directory behind.
 *
 * Not here: a run whose expectation breaks. Breaking one honestly needs acknowledged events to vanish
 * behind the harness's back, and no fault kind that exists for real use does that; the checker's own
 * tests on real servers (test/chaos/checker.int.test.ts) delete events with SQL / a JetStream message
 * delete and show them reported lost, and `judge` turns any count above its limit into the exit code 1
 * path below (`results.some((r) => r.broken.length > 0)` in src/cli/commands/chaos.ts).
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { eventbench, startEventbench } from '../load/cli.ts';

const work = mkdtempSync(join(tmpdir(), 'eventbench-test-chaos-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const SCENARIOS = join(import.meta.dirname, '..', '..', 'scenarios', 'chaos');

function stat(pid: number): { ppid: number; start: string; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0]!, ppid: Number(rest[1]), start: rest[19]! };
  } catch {
    return undefined;
  }
}

/** Live descendants of `root`, as `pid:start` (a later process with a recycled PID is another one). */
function descendants(root: number): string[] {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = stat(Number(entry));
    if (!s || s.state === 'Z') continue;
    byParent.set(s.ppid, [...(byParent.get(s.ppid) ?? []), Number(entry)]);
  }
  const out: string[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const pid of byParent.get(queue.shift()!) ?? []) {
      out.push(`${pid}:${stat(pid)?.start}`);
      queue.push(pid);
    }
  }
  return out;
}

const alive = (key: string) => {
  const [pid, start] = key.split(':');
  const s = stat(Number(pid));
  return s !== undefined && s.state !== 'Z' && s.start === start;
};

describe('eventbench chaos', () => {
  it('--backend both --scenario network_partition: zero lost on both backends, exit 0, history + verdict + summary written', async () => {
    const out = join(work, 'partition');
    const r = await eventbench(['chaos', '--backend', 'both', '--scenario', 'network_partition', '--duration', '3s', '--out', out], 110_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/chaos network_partition on postgres: PASS/);
    expect(r.stdout).toMatch(/chaos network_partition on jetstream: PASS/);
    expect(r.stdout).toMatch(/power loss/);
    for (const backend of ['postgres', 'jetstream']) {
      const v = JSON.parse(readFileSync(join(out, backend, 'verdict.json'), 'utf8'));
      expect(v.verdict.acked).toBeGreaterThan(0);
      expect(v.verdict.lost.count).toBe(0);
      expect(v.verdict.duplicates.count).toBe(0);
      expect(v.broken).toEqual([]);
      expect(v.environment.git).toBeDefined();
      expect(v.scenario.name).toBe('network_partition');
      expect(v.limitations).toMatch(/Jepsen/);
      // The partition really happened and ended: the nemesis recorded both, and the checker timed the recovery.
      const history = readFileSync(join(out, backend, 'history.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(history.filter((op) => op.process === 'nemesis').map((op) => op.f)).toEqual(['start', 'stop']);
      expect(v.verdict.faults).toHaveLength(1);
      expect(v.verdict.faults[0].timeToRecoverNs).not.toBeNull();
      expect(readFileSync(join(out, backend, 'summary.md'), 'utf8')).toMatch(/What these faults cannot show/);
      expect(readFileSync(join(out, backend, 'report.html'), 'utf8')).toContain(`<title>eventbench chaos: network_partition on ${backend}</title>`);
    }
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toMatch(/power loss/);
  }, 120_000);

  it('--list prints every scenario file, one line each', async () => {
    const r = await eventbench(['chaos', '--list']);
    expect(r.code, r.stderr).toBe(0);
    const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, ''));
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split(/\s+/)[0]).sort()).toEqual(files.sort());
    for (const name of ['network_partition', 'latency', 'reset', 'bandwidth', 'half_open', 'server_kill', 'server_pause', 'pg_terminate', 'consumer_crash', 'none']) {
      expect(files).toContain(name);
    }
  });

  const file = join(work, 'a-file');
  writeFileSync(file, '');
  const bad: [string, string[], RegExp][] = [
    ['unknown scenario', ['--backend', 'both', '--scenario', 'earthquake'], /unknown chaos scenario "earthquake": available: .*network_partition/],
    ['duration without unit', ['--backend', 'postgres', '--scenario', 'none', '--duration', '5'], /--duration "5" needs a unit/],
    ['duration too short', ['--backend', 'postgres', '--scenario', 'none', '--duration', '10ms'], /--duration "10ms": from 1 s/],
    ['bad duration', ['--backend', 'postgres', '--scenario', 'none', '--duration', 'soon'], /--duration "soon" is not a duration/],
    ['process fault on an external server', ['--backend', 'postgres', '--scenario', 'server_kill', '--pg-url', 'postgres://u@127.0.0.1:1/x'], /process faults act only on servers eventbench started/],
    ['pause on an external NATS', ['--backend', 'jetstream', '--scenario', 'server_pause', '--nats-url', 'nats://127.0.0.1:1'], /process faults act only on servers eventbench started/],
    ['non-loopback server', ['--backend', 'postgres', '--scenario', 'latency', '--pg-url', 'postgres://u@db.example.com/x'], /sends traffic only to loopback/],
    ['postgres-only scenario on jetstream', ['--backend', 'jetstream', '--scenario', 'pg_terminate'], /does not run on jetstream: pg_terminate_backend is a PostgreSQL function/],
    ['--out under a file', ['--backend', 'postgres', '--scenario', 'none', '--out', join(file, 'x')], /--out ".*a-file\/x": .*choose a directory/],
    ['missing --scenario', ['--backend', 'both'], /--scenario is required/],
    ['unknown backend', ['--backend', 'mysql', '--scenario', 'none'], /mysql/],
  ];
  it.each(bad)('%s: one line, exit 2, nothing started', async (_, args, message) => {
    const t0 = Date.now();
    const r = await eventbench(['chaos', ...args]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/fault proxy tcp:|\n\s+at /);
    expect(r.stdout).toBe('');
    // Refused before any server: a managed server alone takes over a second here, an unreachable URL 3 s.
    expect(Date.now() - t0).toBeLessThan(8_000);
    expect(existsSync(join(file, 'x'))).toBe(false);
  });

  it('Ctrl-C during a run: exit 130, a partial verdict, no process and no temp dir left', async () => {
    const tmp = mkdtempSync(join(work, 'tmp-'));
    // As root, managed PostgreSQL runs as `postgres`, which must reach its temp dir.
    chmodSync(work, 0o755);
    chmodSync(tmp, 0o755);
    const out = join(work, 'interrupted');
    const cli = startEventbench(['chaos', '--backend', 'postgres', '--scenario', 'network_partition', '--duration', '30s', '--out', out], 90_000, { TMPDIR: tmp });
    const seen = new Set<string>();
    const watch = setInterval(() => descendants(cli.child.pid!).forEach((p) => seen.add(p)), 100);
    try {
      await cli.waitForStderr(/fault network#0 start/, 60_000);
      descendants(cli.child.pid!).forEach((p) => seen.add(p));
      cli.child.kill('SIGINT');
      const r = await cli.done;
      expect(r.code, r.stderr).toBe(130);
      expect(r.stderr).toMatch(/interrupted, healing the faults/);
      expect(r.stdout).toMatch(/INTERRUPTED \(partial verdict\)/);
      const v = JSON.parse(readFileSync(join(out, 'postgres', 'verdict.json'), 'utf8'));
      expect(v.interrupted).toBe(true);
      expect(v.verdict.acked).toBeGreaterThan(0);
      // The partition was undone before the end (an `early` stop), not left on.
      const nemesis = readFileSync(join(out, 'postgres', 'history.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"nemesis"'));
      expect(nemesis.map((l) => JSON.parse(l).f)).toEqual(['start', 'stop']);
    } finally {
      clearInterval(watch);
    }
    // Servers, the consumer process, watchdogs: all gone (at least a server and the consumer were seen).
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect([...seen].filter(alive)).toEqual([]);
    expect(readdirSync(tmp).filter((f) => !f.startsWith('tsx-'))).toEqual([]);
  }, 100_000);
});
