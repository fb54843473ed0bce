/**
 * Every PromQL expression of every panel, variable and annotation of every committed dashboard, evaluated
 * through a real Prometheus against a real run: `eventbench bench --prometheus` (managed Prometheus
 * scraping /metrics, NATS server metrics from the monitoring endpoints, postgres-exporter) for the
 * comparison and server dashboards, and a short real `eventbench chaos --prometheus` (a latency fault on
 * PostgreSQL) for the Chaos dashboard. Each run keeps its TSDB under --out; a second Prometheus opened on
 * that directory (the README's "browse a finished run") answers the queries. Each must parse and return at
 * least one series for the run; the Chaos dashboard's fault-window annotation must return the fault window.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSE_CONFIG, startManagedPrometheus, type ManagedPrometheus } from '../../src/infra/managed-prometheus.ts';
import { loadScenario } from '../../src/runners/chaos/scenario.ts';
import { eventbench } from '../load/cli.ts';
import { uniqueName } from '../support/servers.ts';
import { annotationQueries, dashboardQueries, variableQueries, type PanelQuery } from './dashboard-json.ts';

const root = join(import.meta.dirname, '..', '..');
const dashboardsDir = join(root, 'grafana', 'dashboards');
const dir = mkdtempSync(join(tmpdir(), 'eventbench-dashboards-'));
const runId = uniqueName('dash').replace(/_/g, '');
const CHAOS_DASHBOARD = 'eventbench-chaos.json';
const CHAOS_SCENARIO = 'latency';
/** The chaos load phase; the scenario's fault timeline scales with it. */
const CHAOS_LOAD_MS = 4_000;

interface Source {
  prometheus?: ManagedPrometheus;
  range: { start: number; end: number };
  /** `$run`'s value: the run label the managed Prometheus gave the run's series. */
  run: string;
}
const bench: Source = { range: { start: 0, end: 0 }, run: runId };
const chaos: Source = { range: { start: 0, end: 0 }, run: '' };
let chaosAcked = -1;

/** Dashboard variables as a user would pick them: this run, everything else "All". */
function substitute(expr: string, source: Source): string {
  return expr
    // The managed Prometheus scrapes every 1 s; Grafana's $__rate_interval would be 4 s. 15 s here: on a
    // loaded test machine scrapes of a busy run can be late or time out, and a window holding one sample
    // gives rate() nothing (a fault start was missed so once in a full test run).
    .replaceAll('$__rate_interval', '15s')
    .replaceAll('$run', source.run)
    .replace(/\$(backend|event_type|server|datname|scenario)\b/g, '.*');
}

async function api(source: Source, path: string, params: Record<string, string>): Promise<{ status: string; data: unknown; error?: string }> {
  const res = await fetch(`${source.prometheus!.url}/api/v1/${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { status: string; data: unknown; error?: string };
}

type RangeResult = { metric: Record<string, string>; values: [number, string][] }[];

async function queryRange(source: Source, expr: string): Promise<{ status: string; result: RangeResult; error?: string }> {
  const res = await api(source, 'query_range', { query: expr, start: String(source.range.start), end: String(source.range.end), step: '1' });
  return { status: res.status, result: res.status === 'success' ? (res.data as { result: RangeResult }).result : [], ...(res.error ? { error: res.error } : {}) };
}

beforeAll(async () => {
  const out = join(dir, 'out');
  let started = Date.now() / 1000;
  const run = await eventbench(
    ['bench', '--backends', 'postgres,jetstream', '--rate', '200/s', '--duration', '4s', '--infra', 'managed', '--prometheus', '--run-id', runId, '--out', out],
    90_000,
  );
  expect(run.stderr).toMatch(/prometheus at http:\/\/127\.0\.0\.1:\d+ \(data kept in .*prometheus\), with postgres-exporter/);
  expect(run.code).toBe(0);
  bench.range = { start: Math.floor(started), end: Math.ceil(Date.now() / 1000) };
  // The run's own config (eventbench and postgres-exporter targets) and the browse config pass promtool.
  for (const config of ['prometheus.yml', BROWSE_CONFIG]) {
    expect(execFileSync('promtool', ['check', 'config', join(out, 'prometheus', config)], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  }
  expect(readFileSync(join(out, 'prometheus', 'prometheus.yml'), 'utf8')).toMatch(/job_name: postgres/);
  bench.prometheus = await startManagedPrometheus({ targets: [], storageDir: join(out, 'prometheus') });

  const chaosOut = join(dir, 'chaos');
  started = Date.now() / 1000;
  const chaosRun = await eventbench(['chaos', '--backend', 'postgres', '--scenario', CHAOS_SCENARIO, '--duration', `${CHAOS_LOAD_MS / 1000}s`, '--infra', 'managed', '--prometheus', '--out', chaosOut], 120_000);
  expect(chaosRun.code, chaosRun.stderr).toBe(0);
  expect(chaosRun.stderr).toMatch(/prometheus at http:\/\/127\.0\.0\.1:\d+ \(data kept in .*prometheus\)/);
  chaos.range = { start: Math.floor(started), end: Math.ceil(Date.now() / 1000) };
  chaos.run = /run: (chaos-\S+)/.exec(readFileSync(join(chaosOut, 'prometheus', 'prometheus.yml'), 'utf8'))![1]!;
  chaosAcked = (JSON.parse(readFileSync(join(chaosOut, 'postgres', 'verdict.json'), 'utf8')) as { verdict: { acked: number } }).verdict.acked;
  chaos.prometheus = await startManagedPrometheus({ targets: [], storageDir: join(chaosOut, 'prometheus') });
}, 240_000);

afterAll(async () => {
  await bench.prometheus?.stop();
  await chaos.prometheus?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('every dashboard query against a real run', () => {
  const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
  const dashboards = files.map((f) => ({ file: f, json: JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as unknown }));
  /** The Chaos dashboard reads the chaos run; the others the bench run. */
  const sourceOf = (file: string): Source => (file === CHAOS_DASHBOARD ? chaos : bench);

  it('finds the four dashboards', () => {
    expect(files.sort()).toEqual([CHAOS_DASHBOARD, 'eventbench-comparison.json', 'eventbench-nats-server.json', 'eventbench-postgres-server.json']);
  });

  it('every panel target and annotation parses and returns data for the run', async () => {
    const queries: (PanelQuery & { file: string })[] = dashboards.flatMap((d) => [...dashboardQueries(d.json), ...annotationQueries(d.json)].map((q) => ({ ...q, file: d.file })));
    expect(queries.length).toBeGreaterThan(35);
    expect(queries.filter((q) => q.file === CHAOS_DASHBOARD).length).toBeGreaterThan(10);
    const empty: string[] = [];
    for (const q of queries) {
      const source = sourceOf(q.file);
      const expr = substitute(q.expr, source);
      const res = await queryRange(source, expr);
      expect(res.status, `${q.file} "${q.panel}": ${expr}: ${res.error ?? ''}`).toBe('success');
      if (res.result.length === 0) empty.push(`${q.file} "${q.panel}": ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('every variable query lists values for the run', async () => {
    const empty: string[] = [];
    for (const d of dashboards) {
      const source = sourceOf(d.file);
      for (const v of variableQueries(d.json)) {
        const m = /^label_values\((.+), (\w+)\)$/.exec(v.query);
        expect(m, `${d.file} $${v.name}: ${v.query}`).not.toBeNull();
        const res = await api(source, `label/${m![2]}/values`, { 'match[]': substitute(m![1]!, source), start: String(source.range.start), end: String(source.range.end) });
        expect(res.status).toBe('success');
        if ((res.data as string[]).length === 0) empty.push(`${d.file} $${v.name}: ${v.query}`);
      }
    }
    expect(empty).toEqual([]);
  });
});

describe('the Chaos dashboard on a real chaos run', () => {
  const json = JSON.parse(readFileSync(join(dashboardsDir, CHAOS_DASHBOARD), 'utf8')) as unknown;
  const query = (name: string): string => substitute(annotationQueries(json).find((a) => a.panel === `annotation ${name}`)!.expr, chaos);

  it('the fault-window annotation returns the scenario’s one fault window, and nothing outside it', async () => {
    const fault = loadScenario(CHAOS_SCENARIO).faults[0]!;
    const durationS = ((fault.duration ?? 0) * CHAOS_LOAD_MS) / loadScenario(CHAOS_SCENARIO).load.durationMs / 1000;
    const res = await queryRange(chaos, query('Fault windows'));
    expect(res.result).toHaveLength(1);
    expect(res.result[0]!.metric).toMatchObject({ backend: 'postgres', fault: 'network_latency', target: 'postgres' });
    // Samples are every second; a scrape lands inside the window at least once, and the region is one
    // run of consecutive seconds no longer than the fault plus a scrape on each side.
    const times = res.result[0]!.values.map(([t]) => t);
    expect(times.length).toBeGreaterThanOrEqual(1);
    expect(times.at(-1)! - times[0]!).toBe(times.length - 1);
    expect(times.length).toBeLessThanOrEqual(Math.ceil(durationS) + 2);
    // Faults active is 0 outside the window, not absent: the panel shows the fault switching off.
    const active = await queryRange(chaos, substitute('eventbench_chaos_fault_active{run=~"$run"} == 0', chaos));
    expect(active.result[0]!.values.length).toBeGreaterThan(times.length);
  });

  it('the fault-starts annotation marks the fault’s start', async () => {
    const res = await queryRange(chaos, query('Fault starts'));
    expect(res.result.map((r) => r.metric)).toEqual([expect.objectContaining({ fault: 'network_latency', target: 'postgres' })]);
  });

  it('stores what the checker found at the end of the run (the last scrape reached the TSDB)', async () => {
    const res = await queryRange(chaos, substitute('eventbench_chaos_checked_events{run=~"$run", result=~"acked|lost"}', chaos));
    const last = Object.fromEntries(res.result.map((r) => [r.metric.result, Number(r.values.at(-1)![1])]));
    expect(chaosAcked).toBeGreaterThan(0);
    expect(last).toEqual({ acked: chaosAcked, lost: 0 });
  });
});
