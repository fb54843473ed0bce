/**
 * The run metrics: the batched hot path exposes exactly what prom-client's own Histogram / Counter
 * would for the same observations, and worker snapshots aggregate by summing (counters, histograms).
 */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { aggregateMetrics, createRunMetrics, METRIC } from '../../src/core/metrics.ts';

const values = [0.0001, 0.0005, 0.0007, 0.003, 0.02, 0.2, 3, 30];

describe('run metrics', () => {
  it('exposes the append histogram exactly as prom-client would', async () => {
    const ours = createRunMetrics('memory');
    const reference = new Registry();
    const h = new Histogram({
      name: METRIC.appendDuration,
      help: 'x',
      labelNames: ['backend'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [reference],
    });
    for (const v of values) {
      ours.published('synthetic.recorded', 2, v);
      h.labels('memory').observe(v);
    }
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith(`${METRIC.appendDuration}_`));
    const text = await ours.registry.metrics();
    expect(lines(text)).toEqual(lines(await reference.metrics()));
    expect(text).toContain(`event_published_total{backend="memory",event_type="synthetic.recorded"} ${2 * values.length}`);
    expect(text).toContain('eventbench_append_errors_total{backend="memory",kind="conflict"} 0');
  });

  it('sums the snapshots of several load workers', async () => {
    const a = createRunMetrics('jetstream');
    const b = createRunMetrics('jetstream');
    a.published('synthetic.recorded', 1, 0.002);
    b.published('synthetic.recorded', 1, 0.004);
    b.appendError('conflict');
    a.processed('synthetic.recorded', 'success', 0.00002, 0.01);
    const text = await aggregateMetrics([await a.snapshot(), await b.snapshot()]);
    expect(text).toContain('event_published_total{backend="jetstream",event_type="synthetic.recorded"} 2');
    expect(text).toContain('eventbench_append_duration_seconds_count{backend="jetstream"} 2');
    expect(text).toContain('eventbench_append_duration_seconds_bucket{le="0.0025",backend="jetstream"} 1');
    expect(text).toContain('eventbench_append_errors_total{backend="jetstream",kind="conflict"} 1');
    expect(text).toContain('event_processed_total{backend="jetstream",event_type="synthetic.recorded",status="success"} 1');
    // Counters keep counting across scrapes (the batched increments are handed over, not lost).
    a.published('synthetic.recorded', 5, 0.001);
    expect(await a.registry.metrics()).toContain('event_published_total{backend="jetstream",event_type="synthetic.recorded"} 6');
  });
});
