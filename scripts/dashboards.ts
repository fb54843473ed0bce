/**
 * `npm run dashboards`: writes the generated Grafana dashboards (src/observability/dashboards) to
 * grafana/dashboards/ and postgres-exporter's extra queries to grafana/postgres-exporter-queries.yaml,
 * the files docker-compose.yml provisions. Commit the result: a test fails when they differ from the code.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedGrafanaFiles } from '../src/observability/generated-files.ts';

const root = join(import.meta.dirname, '..');
const files = generatedGrafanaFiles();
const dashboardsDir = join(root, 'grafana', 'dashboards');
mkdirSync(dashboardsDir, { recursive: true });
// A dashboard removed from the code must not linger as a stale file.
for (const f of readdirSync(dashboardsDir)) if (f.endsWith('.json') && !(`grafana/dashboards/${f}` in files)) rmSync(join(dashboardsDir, f));
for (const [path, text] of Object.entries(files)) {
  writeFileSync(join(root, path), text);
  process.stdout.write(`wrote ${path}\n`);
}
