/** The committed grafana/ files are exactly what the code generates (`npm run dashboards` rewrites them). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generatedGrafanaFiles } from '../../src/observability/generated-files.ts';

const root = join(import.meta.dirname, '..', '..');

describe('generated grafana files', () => {
  const files = generatedGrafanaFiles();

  it.each(Object.keys(files))('%s is committed as generated (run `npm run dashboards` and commit)', (path) => {
    let committed = '';
    try {
      committed = readFileSync(join(root, path), 'utf8');
    } catch {
      // missing: the comparison below says which
    }
    expect(committed, `${path} differs from the code: run \`npm run dashboards\``).toBe(files[path]);
  });

  it('has no committed dashboard that the code does not generate', () => {
    const committed = readdirSync(join(root, 'grafana', 'dashboards')).map((f) => `grafana/dashboards/${f}`);
    expect(committed.sort()).toEqual(Object.keys(files).filter((p) => p.startsWith('grafana/dashboards/')).sort());
  });
});
