/**
 * Dashboard lint after grafana/dashboard-linter's rules, on the committed JSON: one templated Prometheus
 * data source that every panel, target and variable uses; `$__rate_interval` as the range of rate() and
 * friends; a unit on every panel; and no panel on a metric that nobody exports (eventbench's registry,
 * or the exporters' names in src/core/server-metrics.ts). Not taken over: the linter's job/instance
 * variable rules; eventbench's series are told apart by `run` and `backend` instead.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunMetrics, METRIC, METRIC_SHAPE, type MetricKey, type MetricsSnapshot } from '../../src/core/metrics.ts';
import { NATS_METRIC, POSTGRES_METRIC } from '../../src/core/server-metrics.ts';
import { createChaosMetrics } from '../../src/runners/chaos/metrics.ts';
import { parseFaultTimeline } from '../../src/runners/chaos/faults.ts';
import { annotationQueries, annotations, dashboardQueries, panels, type DashboardJson } from './dashboard-json.ts';

const dir = join(import.meta.dirname, '..', '..', 'grafana', 'dashboards');
const dashboards = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, json: JSON.parse(readFileSync(join(dir, f), 'utf8')) as DashboardJson }));
const DS = '${datasource}';

/** Series names a query may use: harness metrics (histograms by their _bucket/_sum/_count) and exporters'. */
const exported = new Set<string>([
  ...(Object.keys(METRIC) as MetricKey[]).flatMap((k) =>
    METRIC_SHAPE[k].type === 'histogram' ? [`${METRIC[k]}_bucket`, `${METRIC[k]}_sum`, `${METRIC[k]}_count`] : [METRIC[k]],
  ),
  ...Object.values(NATS_METRIC),
  ...Object.values(POSTGRES_METRIC),
]);
const PROMQL_WORDS = new Set(['sum', 'max', 'min', 'avg', 'count', 'by', 'without', 'rate', 'irate', 'increase', 'deriv', 'histogram_quantile', 'label_values', 'le', 'and', 'or', 'unless', 'on', 'ignoring']);

/** Metric names in an expression: identifiers followed by `{` or `[` (every selector here has matchers). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1]!).filter((n) => !PROMQL_WORDS.has(n));
}

describe.each(dashboards)('$file', ({ json }) => {
  it('has one templated Prometheus data source', () => {
    const ds = json.templating.list.filter((v) => v.type === 'datasource');
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({ name: 'datasource', query: 'prometheus' });
  });

  it('uses it in every panel, target, query variable and annotation', () => {
    for (const p of panels(json)) {
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: DS });
      for (const t of p.targets ?? []) expect(t.datasource, p.title).toEqual({ type: 'prometheus', uid: DS });
    }
    for (const v of json.templating.list.filter((x) => x.type === 'query')) expect(v.datasource, v.name).toEqual({ type: 'prometheus', uid: DS });
    for (const a of annotations(json)) {
      expect(a.datasource, a.name).toEqual({ type: 'prometheus', uid: DS });
      expect(a.target?.datasource, a.name).toEqual({ type: 'prometheus', uid: DS });
      // The legacy top-level expression (older Grafana) and the target's must not drift apart.
      expect(a.expr, a.name).toBe(a.target?.expr);
    }
  });

  it('ranges every rate(), increase() and deriv() over $__rate_interval', () => {
    for (const q of [...dashboardQueries(json), ...annotationQueries(json)]) {
      const ranges = [...q.expr.matchAll(/\b(rate|irate|increase|deriv)\(([^()]|\([^()]*\))*?\[([^\]]+)\]\)/g)];
      const functions = q.expr.match(/\b(rate|irate|increase|deriv)\(/g) ?? [];
      expect(ranges.length, `${q.panel}: ${q.expr}`).toBe(functions.length);
      for (const r of ranges) expect(r[3], `${q.panel}: ${q.expr}`).toBe('$__rate_interval');
    }
  });

  it('sets a unit on every panel', () => {
    for (const p of panels(json)) expect(p.fieldConfig?.defaults?.unit, p.title).toMatch(/^\w+$/);
  });

  it('graphs and annotates only metrics that eventbench or the exporters export', () => {
    const queries = [...dashboardQueries(json), ...annotationQueries(json)];
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      const names = metricNames(q.expr);
      expect(names.length, `${q.panel}: ${q.expr}`).toBeGreaterThan(0);
      for (const n of names) expect(exported.has(n), `${q.panel}: ${n} is exported by nobody`).toBe(true);
    }
  });
});

/** Every series of `snapshot` that METRIC names has the type and labels METRIC_SHAPE gives it; returns their keys. */
function expectShapes(snapshot: MetricsSnapshot): MetricKey[] {
  const keys = (Object.keys(METRIC) as MetricKey[]).filter((k) => snapshot.some((m) => m.name === METRIC[k]));
  for (const k of keys) {
    const m = snapshot.find((x) => x.name === METRIC[k])!;
    expect(m.type, k).toBe(METRIC_SHAPE[k].type);
    const labels = new Set(m.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'));
    expect([...labels].sort(), k).toEqual([...METRIC_SHAPE[k].labels].sort());
  }
  return keys;
}

describe('METRIC_SHAPE, which the dashboards are built from', () => {
  const chaosKeys = (Object.keys(METRIC) as MetricKey[]).filter((k) => k.startsWith('chaos'));

  it('matches the run registry: every series with its type and labels', async () => {
    const metrics = createRunMetrics('memory');
    metrics.published('case.intake', 1, 0.001);
    metrics.processed('case.intake', 'success', 0.0001, 0.002);
    metrics.setQueueDepth(0);
    metrics.setInFlight(0);
    metrics.setTargetRate(1);
    const keys = expectShapes(await metrics.snapshot());
    // The relay's outbox gauges live in the hybrid backend's registry and the chaos series in the chaos
    // runner's (next test), not the run's.
    expect(keys.length).toBe(Object.keys(METRIC).length - 2 - chaosKeys.length);
  });

  it('matches the chaos registry: every chaos series with its type and labels', async () => {
    const metrics = createChaosMetrics('latency');
    const run = metrics.forRun('postgres', parseFaultTimeline([{ at: 0, duration: 10, fault: { kind: 'pause', target: 'postgres' } }]));
    run.add({ index: 0, time: 0, type: 'invoke', process: 0, f: 'append', stream: 's', ids: ['a'], expected: 0 });
    run.add({ index: 1, time: 1e6, type: 'ok', process: 0, f: 'append', stream: 's', ids: ['a'], expected: 0, version: 1, positions: [1] });
    run.checked({ acked: 1, lost: { count: 0 }, unknown: { count: 0 }, recovered: { count: 0 }, duplicates: { count: 0 }, unexpected: { count: 0 } } as Parameters<typeof run.checked>[0]);
    const keys = expectShapes(await metrics.registry.getMetricsAsJSON());
    expect(keys.sort()).toEqual([...chaosKeys].sort());
  });
});
