// One placement rule for tests: every test file is `test/**/*.test.ts`, since that is all vitest
// includes (vitest.config.ts). A `*.test.ts` under src/, a `*.spec.ts` or a `*.test.js` anywhere would
// look like a test and silently never run.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// What vitest would take for a test file by default (its default `include`).
const LOOKS_LIKE_A_TEST = /\.(test|spec)\.[cm]?[jt]sx?$/;
const PLACED = /^test\/.+\.test\.ts$/;
// Installed and version-control trees are not the project's files.
const NOT_OURS = new Set(['node_modules', '.git']);

/** Files under `root` that look like tests but are not `test/**\/*.test.ts`, as `/`-separated relative paths. */
function misplacedTests(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (NOT_OURS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (LOOKS_LIKE_A_TEST.test(entry.name)) {
        const rel = relative(root, path).split(sep).join('/');
        if (!PLACED.test(rel)) found.push(rel);
      }
    }
  };
  walk(root);
  return found.sort();
}

describe('test placement', () => {
  it('every test file in the repository is test/**/*.test.ts', () => {
    expect(misplacedTests(ROOT)).toEqual([]);
  });

  it('finds a test placed anywhere else', () => {
    const root = mkdtempSync(join(tmpdir(), 'eventbench-placement-'));
    try {
      const stray = ['src/store/memory.test.ts', 'test/load/parse.spec.ts', 'test/old.test.js', 'bench/harness.test.mts'];
      const fine = ['test/core/subjects.unit.test.ts', 'test/contract/event-store-contract.ts', 'src/core/testing.ts'];
      for (const file of [...stray, ...fine, 'node_modules/pkg/index.test.js']) {
        mkdirSync(join(root, dirname(file)), { recursive: true });
        writeFileSync(join(root, file), '');
      }
      expect(misplacedTests(root)).toEqual([...stray].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('vitest includes nothing outside that rule', () => {
    const projects = config.test?.projects ?? [];
    expect(projects.length).toBeGreaterThan(0);
    for (const project of projects) {
      const include = typeof project === 'object' && 'test' in project ? project.test?.include : undefined;
      expect(include?.length).toBeGreaterThan(0);
      for (const glob of include ?? []) expect(glob).toMatch(/^test\/.*\.test\.ts$/);
    }
  });
});
