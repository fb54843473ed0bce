/**
 * The chaos run's Prometheus series (src/runners/chaos/metrics.ts) from what a run records: the history's
 * appends through a real history writer (as run.ts wires it), the fault timeline's start / stop events and
 * the checker's verdict. The exposition text is read back as Prometheus would scrape it.
 */
import { describe, expect, it } from 'vitest';
import { createChaosMetrics, faultLabels } from '../../src/runners/chaos/metrics.ts';
import { parseFaultTimeline, type NemesisEvent } from '../../src/runners/chaos/faults.ts';
import { createHistoryWriter } from '../../src/runners/chaos/history.ts';
import type { Verdict } from '../../src/runners/chaos/verdict.ts';

/** The value of one series in exposition text, e.g. `value(text, 'eventbench_chaos_fault_active', { fault: 'pause' })`. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const timeline = parseFaultTimeline([
  { at: 0, duration: 1000, fault: { kind: 'network', target: 'postgres', toxic: { type: 'timeout' } } },
  { at: 2000, fault: { kind: 'pg_terminate_backend' } },
  { at: 3000, duration: 500, fault: { kind: 'kill', target: 'postgres' } },
]);

const nemesis = (index: number, phase: 'start' | 'stop', extra: Partial<NemesisEvent> = {}): NemesisEvent => ({ index, phase, fault: timeline[index]!.fault, at: 0, ...extra });

describe('chaos metrics', () => {
  it('labels faults by kind (a network fault by its toxic) and target', () => {
    expect(timeline.map((e) => faultLabels(e.fault))).toEqual([
      { fault: 'network_timeout', target: 'postgres' },
      { fault: 'pg_terminate_backend', target: 'postgres' },
      { fault: 'kill', target: 'postgres' },
    ]);
  });

  it('starts every series of the run at 0, before anything happens', async () => {
    const metrics = createChaosMetrics('s1');
    metrics.forRun('postgres', timeline);
    const text = await metrics.metrics();
    const run = { backend: 'postgres', scenario: 's1' };
    expect(value(text, 'eventbench_chaos_fault_active', { ...run, fault: 'network_timeout', target: 'postgres' })).toBe(0);
    expect(value(text, 'eventbench_chaos_faults_total', { ...run, fault: 'pg_terminate_backend', phase: 'start' })).toBe(0);
    for (const outcome of ['acknowledged', 'failed', 'unknown']) expect(value(text, 'eventbench_chaos_appends_total', { ...run, outcome }), outcome).toBe(0);
    expect(value(text, 'eventbench_chaos_append_attempts_total', run)).toBe(0);
    // The checker's counts are absent until it has checked: a 0 before would claim "nothing lost".
    expect(value(text, 'eventbench_chaos_checked_events', run)).toBeUndefined();
  });

  it('counts appends by outcome with their latency, acknowledged events, faults on and off, and the verdict', async () => {
    const metrics = createChaosMetrics('s1');
    const run = metrics.forRun('postgres', timeline);
    let now = 0;
    const history = createHistoryWriter({ clock: () => now, sinks: [run] });
    const append = { f: 'append', stream: 'chaos-x', expected: 'any' } as const;
    // Writer 0: ok after 3 ms (2 events); writer 1: fail after 1 ms; writer 2: info (timeout) after 2 s;
    // writer 3: a partial append, 1 of 3 events stored, outcome unknown.
    history.record({ type: 'invoke', process: 0, ...append, ids: ['a', 'b'] });
    history.record({ type: 'invoke', process: 1, ...append, ids: ['c'] });
    history.record({ type: 'invoke', process: 2, ...append, ids: ['d'] });
    history.record({ type: 'invoke', process: 3, ...append, ids: ['e', 'f', 'g'] });
    now = 1e6;
    history.record({ type: 'fail', process: 1, ...append, ids: ['c'], error: 'unavailable' });
    now = 3e6;
    history.record({ type: 'ok', process: 0, ...append, ids: ['a', 'b'], version: 2, positions: [1, 2] });
    now = 2e9;
    history.record({ type: 'info', process: 2, ...append, ids: ['d'], error: 'timeout' });
    history.record({ type: 'info', process: 3, ...append, ids: ['e', 'f', 'g'], error: 'partial_append', acked: 1 });

    run.fault(nemesis(0, 'start'));
    run.fault(nemesis(1, 'start'));
    run.fault(nemesis(1, 'stop')); // instantaneous: on and off at once
    run.fault(nemesis(2, 'start', { error: 'kill failed' })); // never on: its stop must not count either
    run.fault(nemesis(2, 'stop'));
    const labels = { backend: 'postgres', scenario: 's1' };
    let text = await metrics.metrics();
    expect(value(text, 'eventbench_chaos_fault_active', { ...labels, fault: 'network_timeout' })).toBe(1);
    expect(value(text, 'eventbench_chaos_fault_active', { ...labels, fault: 'pg_terminate_backend' })).toBe(0);
    expect(value(text, 'eventbench_chaos_faults_total', { ...labels, fault: 'pg_terminate_backend', phase: 'start' })).toBe(1);
    expect(value(text, 'eventbench_chaos_faults_total', { ...labels, fault: 'pg_terminate_backend', phase: 'stop' })).toBe(1);
    expect(value(text, 'eventbench_chaos_fault_active', { ...labels, fault: 'kill' })).toBe(0);
    expect(value(text, 'eventbench_chaos_faults_total', { ...labels, fault: 'kill', phase: 'start' })).toBe(0);
    expect(value(text, 'eventbench_chaos_faults_total', { ...labels, fault: 'kill', phase: 'stop' })).toBe(0);

    expect(value(text, 'eventbench_chaos_append_attempts_total', labels)).toBe(4);
    expect(value(text, 'eventbench_chaos_appends_total', { ...labels, outcome: 'acknowledged' })).toBe(1);
    expect(value(text, 'eventbench_chaos_appends_total', { ...labels, outcome: 'failed' })).toBe(1);
    expect(value(text, 'eventbench_chaos_appends_total', { ...labels, outcome: 'unknown' })).toBe(2);
    expect(value(text, 'eventbench_chaos_acknowledged_events_total', labels)).toBe(3);
    // Latency from invoke to completion: 3 ms lands in the 5 ms bucket, not the 2.5 ms one.
    expect(value(text, 'eventbench_chaos_append_duration_seconds_bucket', { ...labels, outcome: 'acknowledged', le: '0.0025' })).toBe(0);
    expect(value(text, 'eventbench_chaos_append_duration_seconds_bucket', { ...labels, outcome: 'acknowledged', le: '0.005' })).toBe(1);
    expect(value(text, 'eventbench_chaos_append_duration_seconds_sum', { ...labels, outcome: 'unknown' })).toBeCloseTo(4, 6);

    run.fault(nemesis(0, 'stop'));
    run.checked({ acked: 3, lost: { count: 1, ids: ['a'] }, unknown: { count: 2, ids: [] }, recovered: { count: 0, ids: [] }, duplicates: { count: 0, ids: [] }, unexpected: { count: 0, ids: [] } } as unknown as Verdict);
    text = await metrics.metrics();
    expect(value(text, 'eventbench_chaos_fault_active', { ...labels, fault: 'network_timeout' })).toBe(0);
    expect(value(text, 'eventbench_chaos_checked_events', { ...labels, result: 'acked' })).toBe(3);
    expect(value(text, 'eventbench_chaos_checked_events', { ...labels, result: 'lost' })).toBe(1);
    expect(value(text, 'eventbench_chaos_checked_events', { ...labels, result: 'unknown' })).toBe(2);
  });

  it('keeps two backends of one command apart by the backend label', async () => {
    const metrics = createChaosMetrics('s2');
    metrics.forRun('postgres', []).add({ index: 0, time: 0, type: 'invoke', process: 0, f: 'append', stream: 's', ids: ['a'], expected: 'any' });
    metrics.forRun('jetstream', []);
    const text = await metrics.metrics();
    expect(value(text, 'eventbench_chaos_append_attempts_total', { backend: 'postgres' })).toBe(1);
    expect(value(text, 'eventbench_chaos_append_attempts_total', { backend: 'jetstream' })).toBe(0);
  });
});
