/**
 * Writes a validated load / bench result: `result.json` (schema-checked first) and `summary.md`, each
 * atomically (a temp file in the same directory, then rename), so a reader never sees half a file and a
 * failure leaves the previous file, if any, intact.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadResultSchema, type LoadResult } from './load-result.ts';
import { renderSummaryMarkdown } from './load-summary.ts';

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** `dir` must exist (see out-dir.ts: it is created and probed before the run). */
export function writeLoadResult(dir: string, result: LoadResult): { json: string; summary: string } {
  // Validate before anything touches the disk: a result that does not match its schema is a bug.
  const valid = loadResultSchema.parse(result);
  const json = join(dir, 'result.json');
  const summary = join(dir, 'summary.md');
  writeAtomically(json, `${JSON.stringify(valid, null, 2)}\n`);
  writeAtomically(summary, renderSummaryMarkdown(valid));
  return { json, summary };
}
