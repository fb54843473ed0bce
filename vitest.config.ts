import { defineConfig } from 'vitest/config';

// One placement rule: every test is `test/**/*.test.ts`, nothing under src/ (fixtures and helpers
// live under test/ too). Only these globs run, so a test placed anywhere else would silently never
// run: test/architecture/test-placement.unit.test.ts fails on any `*.test.*` / `*.spec.*` file outside
// them and on an `include` here that leaves test/.
// Tiers by file name: *.unit.test.ts (no servers), *.int.test.ts (real servers), *.e2e.test.ts (the CLI).
// Two projects: `unit` runs without servers (`npm run test:unit`); `servers` (int + e2e, and any test
// without a tier in its name) shares one managed PostgreSQL and one managed NATS started by its global
// setup (or PG_URL / NATS_URL); every test isolates itself by unique schema / stream / subject names.
const ALL = ['test/**/*.test.ts'];
const UNIT = ['test/**/*.unit.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core CI machine shared by client and servers: keep parallelism modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT } },
      { extends: true, test: { name: 'servers', include: ALL, exclude: UNIT, globalSetup: ['./test/global-setup.ts'] } },
    ],
  },
});
