/**
 * Writes a validated load / bench result: `result.json` (schema-checked first), `summary.md` and `report.html`, each
 * atomically (a temp file in the same directory, then rename), so a reader never sees half a file and a
 * failure leaves the previous file, if any, intact.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadResultSchema, type LoadResult } from './load-result.ts';
import { renderSummaryMarkdown } from './load-summary.ts';
import { renderHtmlReport } from './html/render.ts';

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
export function writeLoadResult(dir: string, result: LoadResult): { json: string; summary: string; html: string } {
  // Validate before anything touches the disk: a result that does not match its schema is a bug.
  const valid = loadResultSchema.parse(result);
  const json = join(dir, 'result.json');
  const summary = join(dir, 'summary.md');
  const html = join(dir, 'report.html');
  const text = `${JSON.stringify(valid, null, 2)}\n`;
  writeAtomically(json, text);
  writeAtomically(summary, renderSummaryMarkdown(valid));
  // The page a person opens (docs/reports.md), with the result embedded exactly as written.
  writeAtomically(html, renderHtmlReport(valid, { rawJson: text }));
  return { json, summary, html };
}
