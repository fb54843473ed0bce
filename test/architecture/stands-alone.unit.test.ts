/**
 * The repository stands alone: code, tests, scenarios and the README cite `docs/`, never the founders'
 * documents outside it ("seed 002", `DESIGN.md`, `../shared/...`), which a reader of this repository
 * cannot follow. `docs/` itself names those documents as provenance (docs/README.md); committed results
 * are kept as they were recorded.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const SCANNED = ['src', 'test', 'bench', 'sql', 'scenarios', 'bin', 'docker', 'README.md', 'docker-compose.yml', '.ci'];
/** "seed 002", "seed-002", "seeds/", "DESIGN.md", "STYLE.md", "../shared/" (a random seed is "--seed 7", "seed 1": not matched). */
const SEED = /\bseed[ -]?00[0-4]\b|\bseeds\/|\.\.\/shared\//i;
/** Upper case: `docs/design.md` is this repository's own. */
const MAP = /\b(DESIGN|STYLE)\.md\b/;
const OUTSIDE_REFERENCE = { test: (line: string): boolean => SEED.test(line) || MAP.test(line) };

function files(path: string): string[] {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return [];
  if (st.isFile()) return [path];
  return readdirSync(path).flatMap((name) => (name === 'node_modules' ? [] : files(join(path, name))));
}

describe('the repository stands alone', () => {
  it('no file outside docs/ and results/ cites a document that is not in the repository', () => {
    const self = fileURLToPath(import.meta.url);
    const hits = SCANNED.flatMap((p) => files(join(root, p)))
      .filter((f) => f !== self && !f.includes(`${join('test', 'architecture', 'fixtures')}`))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => ({ f, i, line }))
          .filter(({ line }) => OUTSIDE_REFERENCE.test(line))
          .map(({ f, i, line }) => `${relative(root, f)}:${i + 1}: ${line.trim().slice(0, 120)}`),
      );
    expect(hits).toEqual([]);
  });

  it('the pattern catches the forms such references take, and not a random seed', () => {
    for (const s of ["seed 002's load tester", 'Seed 004 outbox', 'seed-002 processors', 'see DESIGN.md', '../shared/data/x.md', 'STYLE.md rule 6']) {
      expect(OUTSIDE_REFERENCE.test(s), s).toBe(true);
    }
    for (const s of ['--seed 7', 'seed 1, 1 worker', 'seeded workloads', 'docs/design.md']) expect(OUTSIDE_REFERENCE.test(s), s).toBe(false);
  });
});
