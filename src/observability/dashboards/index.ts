/**
 * Every dashboard eventbench ships, and the JSON text committed under grafana/dashboards/
 * (`npm run dashboards` writes it; test/observability/dashboards.unit.test.ts fails when the committed
 * files differ; docs/observability.md).
 */
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { chaosDashboard } from './chaos.ts';
import { comparisonDashboard } from './comparison.ts';
import { natsServerDashboard } from './nats-server.ts';
import { postgresServerDashboard } from './postgres-server.ts';

export const DASHBOARDS: Record<string, () => Dashboard> = {
  'eventbench-chaos.json': () => chaosDashboard().build(),
  'eventbench-comparison.json': () => comparisonDashboard().build(),
  'eventbench-nats-server.json': () => natsServerDashboard().build(),
  'eventbench-postgres-server.json': () => postgresServerDashboard().build(),
};

/** File name -> JSON text, as committed (two-space indent, trailing newline). */
export function renderDashboards(): Record<string, string> {
  return Object.fromEntries(Object.entries(DASHBOARDS).map(([file, build]) => [file, `${JSON.stringify(build(), null, 2)}\n`]));
}
