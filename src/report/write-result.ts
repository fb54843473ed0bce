/** Writes a validated load / bench result: `result.json` (schema-checked first) and `summary.md`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadResultSchema, type LoadResult } from './load-result.ts';
import { renderSummaryMarkdown } from './load-summary.ts';

export function writeLoadResult(dir: string, result: LoadResult): { json: string; summary: string } {
  // Validate before anything touches the disk: a result that does not match its schema is a bug.
  const valid = loadResultSchema.parse(result);
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'result.json');
  const summary = join(dir, 'summary.md');
  writeFileSync(json, `${JSON.stringify(valid, null, 2)}\n`);
  writeFileSync(summary, renderSummaryMarkdown(valid));
  return { json, summary };
}
