/**
 * Every PromQL expression of every panel and variable of every committed dashboard, evaluated through a
 * real Prometheus against a real run: `eventbench bench --prometheus` (managed Prometheus scraping /metrics,
 * NATS server metrics from the monitoring endpoints, postgres-exporter) keeps its TSDB under --out; a
 * second Prometheus opened on that directory (the README's "browse a finished run") answers the queries.
 * Each must parse and return at least one series for the run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSE_CONFIG, startManagedPrometheus, type ManagedPrometheus } from '../../src/infra/managed-prometheus.ts';
import { eventbench } from '../load/cli.ts';
import { uniqueName } from '../support/servers.ts';
import { dashboardQueries, variableQueries, type PanelQuery } from './dashboard-json.ts';

const root = join(import.meta.dirname, '..', '..');
const dashboardsDir = join(root, 'grafana', 'dashboards');
const dir = mkdtempSync(join(tmpdir(), 'eventbench-dashboards-'));
const runId = uniqueName('dash').replace(/_/g, '');
let browse: ManagedPrometheus | undefined;
let range = { start: 0, end: 0 };

/** Dashboard variables as a user would pick them: this run, everything else "All". */
function substitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '5s') // the managed Prometheus scrapes every 1 s: 5 samples per window
    .replaceAll('$run', runId)
    .replace(/\$(backend|event_type|server|datname)\b/g, '.*');
}

async function api(path: string, params: Record<string, string>): Promise<{ status: string; data: unknown; error?: string }> {
  const res = await fetch(`${browse!.url}/api/v1/${path}?${new URLSearchParams(params)}`, { signal: AbortSignal.timeout(10_000) });
  return (await res.json()) as { status: string; data: unknown; error?: string };
}

beforeAll(async () => {
  const out = join(dir, 'out');
  const started = Date.now() / 1000;
  const run = await eventbench(
    ['bench', '--backends', 'postgres,jetstream', '--rate', '200/s', '--duration', '4s', '--infra', 'managed', '--prometheus', '--run-id', runId, '--out', out],
    90_000,
  );
  expect(run.stderr).toMatch(/prometheus at http:\/\/127\.0\.0\.1:\d+ \(data kept in .*prometheus\), with postgres-exporter/);
  expect(run.code).toBe(0);
  range = { start: Math.floor(started), end: Math.ceil(Date.now() / 1000) };
  // The run's own config (eventbench and postgres-exporter targets) and the browse config pass promtool.
  for (const config of ['prometheus.yml', BROWSE_CONFIG]) {
    expect(execFileSync('promtool', ['check', 'config', join(out, 'prometheus', config)], { encoding: 'utf8' })).toMatch(/SUCCESS/);
  }
  expect(readFileSync(join(out, 'prometheus', 'prometheus.yml'), 'utf8')).toMatch(/job_name: postgres/);
  browse = await startManagedPrometheus({ targets: [], storageDir: join(out, 'prometheus') });
}, 120_000);

afterAll(async () => {
  await browse?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('every dashboard query against a real run', () => {
  const files = readdirSync(dashboardsDir).filter((f) => f.endsWith('.json'));
  const dashboards = files.map((f) => ({ file: f, json: JSON.parse(readFileSync(join(dashboardsDir, f), 'utf8')) as unknown }));

  it('finds the three dashboards', () => {
    expect(files.sort()).toEqual(['eventbench-comparison.json', 'eventbench-nats-server.json', 'eventbench-postgres-server.json']);
  });

  it('every panel target parses and returns data for the run', async () => {
    const queries: (PanelQuery & { file: string })[] = dashboards.flatMap((d) => dashboardQueries(d.json).map((q) => ({ ...q, file: d.file })));
    expect(queries.length).toBeGreaterThan(25);
    const empty: string[] = [];
    for (const q of queries) {
      const expr = substitute(q.expr);
      const res = await api('query_range', { query: expr, start: String(range.start), end: String(range.end), step: '1' });
      expect(res.status, `${q.file} "${q.panel}": ${expr}: ${res.error ?? ''}`).toBe('success');
      const result = (res.data as { result: unknown[] }).result;
      if (result.length === 0) empty.push(`${q.file} "${q.panel}": ${expr}`);
    }
    expect(empty).toEqual([]);
  });

  it('every variable query lists values for the run', async () => {
    const empty: string[] = [];
    for (const d of dashboards) {
      for (const v of variableQueries(d.json)) {
        const m = /^label_values\((.+), (\w+)\)$/.exec(v.query);
        expect(m, `${d.file} $${v.name}: ${v.query}`).not.toBeNull();
        const res = await api(`label/${m![2]}/values`, { 'match[]': substitute(m![1]!), start: String(range.start), end: String(range.end) });
        expect(res.status).toBe('success');
        if ((res.data as string[]).length === 0) empty.push(`${d.file} $${v.name}: ${v.query}`);
      }
    }
    expect(empty).toEqual([]);
  });
});
