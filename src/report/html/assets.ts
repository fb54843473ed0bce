/**
 * The files report.html inlines so that it opens without a network: uPlot (script and stylesheet, read
 * from its npm package at render time, never fetched from a CDN), the page's own script (client.js) and
 * stylesheet (style.css). Read once per process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface ReportAssets {
  uplotJs: string;
  uplotCss: string;
  clientJs: string;
  css: string;
}

let cached: ReportAssets | null = null;

export function reportAssets(): ReportAssets {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const read = (path: string | URL): string => readFileSync(path, 'utf8');
  cached = {
    uplotJs: read(require.resolve('uplot/dist/uPlot.iife.min.js')),
    uplotCss: read(require.resolve('uplot/dist/uPlot.min.css')),
    clientJs: read(new URL('./client.js', import.meta.url)),
    css: read(new URL('./style.css', import.meta.url)),
  };
  return cached;
}
