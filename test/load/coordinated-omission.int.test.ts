/**
 * Coordinated omission, against a real server: a 10 s constant-rate run during which the managed NATS
 * server is paused (SIGSTOP) for 1 s must report a p99 of several hundred ms, because every append due
 * during the pause is measured from its intended send time. The same run in closed mode shows the
 * difference: its own view hides the stall (low p99) and it simply sends fewer appends. The closed run
 * pauses for 2.2 s so that at least one whole second of its timeline lies inside the pause, wherever the
 * timer lands; the test finds those seconds from the pause's recorded start and end.
 * The test starts its own server, so pausing it stalls no other test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openServers, type Servers } from '../../src/infra/servers.ts';
import { runLoad, type LoadScenario } from '../../src/runners/load/run.ts';
import type { BackendResult } from '../../src/report/load-result.ts';
import { uniqueName } from '../support/servers.ts';

let servers: Servers;

beforeAll(async () => {
  servers = await openServers({ infra: 'managed' }, { postgres: false, nats: true });
}, 60_000);

afterAll(async () => {
  await servers?.stop();
});

/** The pause as it happened, in ms from the measured window's start: from SIGSTOP acting to SIGCONT. */
interface PauseSpan {
  fromMs: number;
  toMs: number;
}

async function runWithPause(scenario: Partial<LoadScenario>, pauseMs: number): Promise<{ result: BackendResult; pause: PauseSpan | null }> {
  const nats = servers.nats!;
  let pauseTimer: NodeJS.Timeout | undefined;
  let paused: Promise<void> = Promise.resolve();
  let pause: PauseSpan | null = null;
  try {
    const result = await runLoad({
      backend: 'jetstream',
      backendOptions: { natsUrl: servers.natsUrl!, namespace: uniqueName('co') },
      scenario: {
        executor: 'constant',
        workload: 'synthetic',
        seed: 7,
        runId: uniqueName('r'),
        durationMs: 10_000,
        warmupMs: 0,
        maxInFlight: 10_000,
        workers: 1,
        drainTimeoutMs: 10_000,
        consumer: false,
        metrics: false,
        ...scenario,
      },
      serverProcesses: [{ name: 'nats-server', pid: nats.pid }],
      onMeasureStart: (at) => {
        pauseTimer = setTimeout(() => {
          paused = (async () => {
            await nats.pause();
            const fromMs = Date.now() - at;
            await new Promise((r) => setTimeout(r, pauseMs));
            pause = { fromMs, toMs: Date.now() - at };
            await nats.resume();
          })();
        }, at + 4000 - Date.now());
      },
    });
    await paused;
    return { result, pause };
  } finally {
    clearTimeout(pauseTimer);
    await paused;
    if (nats.state === 'paused') await nats.resume();
  }
}

describe('coordinated omission with a paused server', () => {
  it('open loop reports the 1 s pause in p99; closed loop hides it', async () => {
    const { result: open } = await runWithPause({ executor: 'constant', rate: 200 }, 1000);
    const { result: closed, pause } = await runWithPause({ executor: 'closed', writers: 4 }, 2200);

    // Open loop: ~10% of the appends were due during the pause and waited up to 1 s.
    expect(open.errors.total).toBe(0);
    expect(open.latency.count).toBeGreaterThan(1900);
    expect(open.latency.p99).toBeGreaterThanOrEqual(500);
    expect(open.latency.max).toBeGreaterThanOrEqual(800);
    // The client's own view (send -> ack) of the same open-loop run agrees here (sends left on time).
    expect(open.sendDelay.p99).toBeLessThan(200);

    // Closed loop: only its 4 writers saw the stall, so the percentiles barely move...
    expect(closed.latency.max).toBeGreaterThanOrEqual(800);
    expect(closed.latency.p99).toBeLessThan(open.latency.p99 / 3);
    // ...and it sent nothing while the server was stopped: the seconds inside the pause are simply missing.
    const perSecond = closed.timeline.map((t) => t.appends);
    const seen = `pause ${JSON.stringify(pause)} ms into the window; appends per second ${JSON.stringify(perSecond)}`;
    expect(pause, 'the pause ran').not.toBeNull();
    const inside = closed.timeline.filter((t) => t.second * 1000 >= pause!.fromMs && (t.second + 1) * 1000 <= pause!.toMs);
    expect(inside.length, `a whole second of the window lies inside the pause (${seen})`).toBeGreaterThanOrEqual(1);
    for (const t of inside) expect(t.appends, `second ${t.second} is inside the pause (${seen})`).toBeLessThan(Math.max(...perSecond) * 0.1);
  }, 90_000);
});
