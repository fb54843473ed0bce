import { defineConfig } from 'vitest/config';

// Tiers by file name: *.unit.test.ts (no servers), *.int.test.ts (real servers), *.e2e.test.ts (the CLI).
// Global setup starts one managed PostgreSQL and one managed NATS for the whole run (or uses PG_URL /
// NATS_URL); every test isolates itself by unique schema / stream / subject names.
export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // 2-core CI machine shared by client and servers: keep parallelism modest.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    reporters: ['default'],
  },
});
