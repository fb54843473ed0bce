/**
 * Every manifest under deploy/kubernetes validates against the Kubernetes API schemas of the version they
 * target (the `kubernetes-models` package: the OpenAPI schemas of Kubernetes 1.27 compiled to validators,
 * MIT, read offline from node_modules) and, as `kubeconform -strict` does, has no field the schema does
 * not know. A broken field fails, which the injected breaks below prove.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as core from 'kubernetes-models/v1';
import * as policy from 'kubernetes-models/policy/v1';

const DIR = new URL('../../deploy/kubernetes/', import.meta.url).pathname;

type Json = Record<string, unknown>;
type Validating = { prototype: { validate(this: unknown): void } };

/** The kinds the manifests use, by apiVersion and kind. */
const MODELS: Record<string, Validating> = {
  'v1/Namespace': core.Namespace,
  'v1/Secret': core.Secret,
  'v1/ConfigMap': core.ConfigMap,
  'v1/Service': core.Service,
  'v1/PersistentVolumeClaim': core.PersistentVolumeClaim,
  'apps/v1/StatefulSet': apps.StatefulSet,
  'batch/v1/Job': batch.Job,
  'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
};

/**
 * Validates `doc`, returning every problem: schema errors, and fields the schema does not know. The
 * compiled validators read each property they know by name and enumerate the keys of maps (labels,
 * resources); a key of a checked object that was neither read nor enumerated is unknown. Watching what
 * the validator reads (a Proxy) is how this finds them without a second copy of the schema.
 */
function validateManifest(doc: Json): string[] {
  const model = MODELS[`${String(doc.apiVersion)}/${String(doc.kind)}`];
  if (!model) return [`no schema for apiVersion ${String(doc.apiVersion)} kind ${String(doc.kind)}: add it to MODELS`];
  const read = new WeakMap<object, Set<PropertyKey>>();
  const enumerated = new WeakSet<object>();
  const proxies = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    let p = proxies.get(value);
    if (!p) {
      read.set(value, new Set());
      p = new Proxy(value, {
        get: (t, key) => {
          read.get(t)!.add(key);
          return wrap(Reflect.get(t, key));
        },
        has: (t, key) => {
          read.get(t)!.add(key);
          return Reflect.has(t, key);
        },
        ownKeys: (t) => {
          enumerated.add(t);
          return Reflect.ownKeys(t);
        },
      });
      proxies.set(value, p);
    }
    return p;
  };
  const problems: string[] = [];
  try {
    model.prototype.validate.call(wrap(doc));
  } catch (err) {
    problems.push((err as Error).message);
  }
  const walk = (value: unknown, path: string): void => {
    if (typeof value !== 'object' || value === null) return;
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${path}/${i}`));
    const seen = read.get(value);
    for (const [key, child] of Object.entries(value)) {
      // Not visited at all (under a field whose schema allows anything): nothing to judge by.
      if (seen && !enumerated.has(value) && !seen.has(key)) problems.push(`data${path}/${key} is not a field of this kind`);
      walk(child, `${path}/${key}`);
    }
  };
  walk(doc, '');
  return problems;
}

function manifests(): { file: string; doc: Json }[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
        expect(d.errors, file).toEqual([]);
        return { file, doc: d.toJS() as Json };
      }),
    );
}

const find = (kind: string, name: string): Json => structuredClone(manifests().find((m) => m.doc.kind === kind && (m.doc.metadata as Json).name === name)!.doc);

describe('deploy/kubernetes manifests', () => {
  it('every document validates against the Kubernetes 1.27 schemas, strictly', () => {
    const all = manifests();
    expect(all.length).toBeGreaterThanOrEqual(12);
    for (const { file, doc } of all) expect(validateManifest(doc), `${file}: ${String(doc.kind)} ${String((doc.metadata as Json).name)}`).toEqual([]);
  });

  it('a broken field fails: a string for replicas, an unknown field under spec, a bad completionMode', () => {
    const nats = find('StatefulSet', 'nats');
    (nats.spec as Json).replicas = 'three';
    expect(validateManifest(nats).join('\n')).toMatch(/spec\/replicas must be integer/);

    const unknown = find('StatefulSet', 'nats');
    (unknown.spec as Json).replica = 3;
    expect(validateManifest(unknown)).toEqual(['data/spec/replica is not a field of this kind']);

    const job = find('Job', 'eventbench-load');
    (job.spec as Json).completionMode = 'Indexd';
    expect(validateManifest(job).join('\n')).toMatch(/completionMode/);

    const container = find('Job', 'eventbench-load');
    (((container.spec as Json).template as Json).spec as { containers: Json[] }).containers[0]!.imagePull = 'Always';
    expect(validateManifest(container)).toEqual(['data/spec/template/spec/containers/0/imagePull is not a field of this kind']);
  });

  it('runs the generators as one indexed Job that shares the instant and keeps results on the volume', () => {
    const job = find('Job', 'eventbench-load');
    const spec = job.spec as Json;
    expect(spec).toMatchObject({ completionMode: 'Indexed' });
    expect(spec.parallelism).toBe(spec.completions);
    const args = ((spec.template as Json).spec as { containers: { args: string[] }[] }).containers[0]!.args.join(' ');
    expect(args).toContain('--start-at $(START_AT)');
    expect(args).toContain('--generator-id $(JOB_COMPLETION_INDEX)');
    expect(args).toMatch(/--out \/results\/\$\(RUN_ID\)\/g\$\(JOB_COMPLETION_INDEX\)/);
    expect(find('StatefulSet', 'nats').spec).toMatchObject({ replicas: 3 });
    expect(JSON.stringify(find('Job', 'eventbench-merge'))).toContain('merge /results/');
  });
});
