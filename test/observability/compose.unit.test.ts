/**
 * docker-compose.yml against the Compose Specification's JSON schema (as the npm package dclint ships it),
 * plus what the schema cannot see: every image pinned to a version, every
 * bind-mounted file and build input present in the repository, and the two exporters the dashboards read.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = join(import.meta.dirname, '..', '..');
const require = createRequire(import.meta.url);
// dclint (a compose linter) ships the Compose Specification's schema (compose-spec/compose-spec, schema/
// compose-spec.json, Apache-2.0) as schemas/compose.schema.json; its `exports` map hides the file, so by path.
const schema = JSON.parse(readFileSync(join(dirname(require.resolve('dclint/package.json')), 'schemas', 'compose.schema.json'), 'utf8')) as Record<string, unknown>;

interface Service {
  image?: string;
  build?: { context: string; dockerfile?: string };
  volumes?: (string | { type: string; source: string })[];
  profiles?: string[];
}
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    // Not strict: the schema uses annotations ajv does not know (`deprecated`) and formats it lacks (`duration`);
    // it names draft-07 by its https URL, which ajv knows as http, so the schema itself is not meta-validated.
    const ajv = new Ajv.default({ strict: false, validateFormats: false, validateSchema: false, allErrors: true });
    const validate = ajv.compile(schema);
    const ok = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 1)).toEqual([]);
    expect(ok).toBe(true);
  });

  it('is not vacuously valid: the schema refuses an unknown service key', () => {
    const ajv = new Ajv.default({ strict: false, validateFormats: false, validateSchema: false });
    const broken = { services: { x: { image: 'a:1', imagee: 'typo' } } };
    expect(ajv.validate(schema, broken)).toBe(false);
  });

  it('pins every image to a version (no latest, no bare name)', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      if (!s.image) continue;
      const tag = s.image.split(':')[1];
      expect(tag, `${name}: ${s.image}`).toBeDefined();
      expect(tag, `${name}: ${s.image}`).not.toBe('latest');
      expect(tag, `${name}: ${s.image} must name a version`).toMatch(/\d+\.\d+/);
    }
  });

  it('mounts only files and directories that exist, and builds from a present Dockerfile', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.source;
        if (!source.startsWith('.')) {
          expect(compose.volumes, `${name}: named volume ${source}`).toHaveProperty(source);
          continue;
        }
        expect(existsSync(join(root, source)), `${name}: ${source}`).toBe(true);
      }
      if (s.build) expect(existsSync(join(root, s.build.context, s.build.dockerfile ?? 'Dockerfile')), `${name}: Dockerfile`).toBe(true);
    }
  });

  it('runs both exporters, Grafana provisioned from grafana/, and eventbench only on request', () => {
    expect(compose.services['nats-exporter']?.image).toMatch(/^natsio\/prometheus-nats-exporter:/);
    expect(compose.services['postgres-exporter']?.image).toMatch(/^prometheuscommunity\/postgres-exporter:/);
    expect(compose.services.grafana?.volumes).toEqual(expect.arrayContaining(['./grafana/provisioning:/etc/grafana/provisioning:ro', './grafana/dashboards:/var/lib/grafana/dashboards:ro']));
    expect(compose.services.eventbench?.profiles).toEqual(['eventbench']);
  });
});
