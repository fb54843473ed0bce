/**
 * The shell every report page shares: head with the inlined styles, a header, the page's sections, the
 * raw result (embedded compressed, downloadable), the chart data, and the inlined scripts (uPlot and
 * client.js, which draws every chart of `charts` into the element with its id). No external resource.
 */
import { gzipSync } from 'node:zlib';
import { reportAssets } from './assets.ts';
import type { ChartSpec } from './charts.ts';
import { esc } from './sections.ts';

export interface PageParts {
  title: string;
  subtitle: string;
  sourceNote?: string;
  /** The sections, already HTML; each chart of `charts` needs an element with its id in here. */
  body: string;
  charts: ChartSpec[];
  /** The result file as written, embedded for download. */
  raw: string;
  fileName: string;
  /** Shown next to the download button, e.g. "schema version 3". */
  rawNote: string;
}

/** JSON inside <script type="application/json">: `<` escaped so no "</script>" in a string ends the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * The raw result as written, gzip-compressed and base64-encoded: a long run's per-second timeline is most of
 * a result file and compresses about tenfold, so the page stays small however long the run was. The page
 * inflates it with the browser's DecompressionStream when it is downloaded or shown (no request).
 */
function embeddedRaw(raw: string): string {
  return gzipSync(raw).toString('base64');
}

export function htmlPage(p: PageParts): string {
  const assets = reportAssets();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.title)}</title>
<style>${assets.uplotCss}</style>
<style>${assets.css}</style>
</head>
<body>
<header>
<h1>${esc(p.title)}</h1>
<p class="subtitle">${esc(p.subtitle)}</p>
${p.sourceNote ? `<p class="note">${esc(p.sourceNote)}</p>` : ''}
</header>
<main>
${p.body}
<section id="raw">
<h2>Raw result</h2>
<p><button type="button" id="download-json" data-filename="${esc(p.fileName)}">Download result JSON</button> (${esc(p.rawNote)})</p>
<details id="raw-details"><summary>Show the JSON</summary><pre id="raw-json"></pre></details>
</section>
</main>
<script type="application/json" id="eventbench-charts">${scriptJson({ charts: p.charts })}</script>
<script type="application/gzip;base64" id="eventbench-result">${embeddedRaw(p.raw)}</script>
<script>${assets.uplotJs}</script>
<script>${assets.clientJs}</script>
</body>
</html>
`;
}
