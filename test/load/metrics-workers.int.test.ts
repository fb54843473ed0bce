/**
 * /metrics with worker threads: the load workers' counts reach the scrape as they happen. Before, a
 * worker sent its counters every 500 ms while the consumer (main thread) counted live, so a scrape with
 * 2 workers showed event_published_total 432 next to event_processed_total 515. Now, at every scrape
 * during the run, published >= processed, and at the end both equal the result's counts.
 */
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../src/core/metrics.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { parseExposition, total } from './exposition.ts';

describe('metrics with 2 load workers (jetstream)', () => {
  it('never shows more processed than published, and ends at the result counts', async () => {
    let scrape: (() => Promise<string>) | null = null;
    const seen: { published: number; processed: number }[] = [];
    const read = async (s: () => Promise<string>): Promise<{ published: number; processed: number }> => {
      const { samples } = parseExposition(await s());
      return { published: total(samples, METRIC.published), processed: total(samples, METRIC.processed) };
    };
    let stop = false;
    let scraping: Promise<void> = Promise.resolve();
    const result = await runLoad({
      backend: 'jetstream',
      backendOptions: { natsUrl: testNatsUrl(), namespace: uniqueName('mw') },
      scenario: { executor: 'constant', workload: 'synthetic', seed: 4, runId: uniqueName('r'), rate: 800, durationMs: 4000, warmupMs: 0, maxInFlight: 10_000, workers: 2, drainTimeoutMs: 10_000, consumer: true, metrics: true },
      onMetrics: (s) => {
        if (!s) {
          stop = true;
          return;
        }
        scrape = s;
        // Scrape back to back while the run goes, as a fast Prometheus would.
        scraping = (async () => {
          while (!stop) {
            seen.push(await read(s));
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
      },
    });
    await scraping;
    const during = seen.filter((x) => x.processed > 0);
    expect(during.length).toBeGreaterThanOrEqual(4);
    for (const x of seen) expect(x.published, JSON.stringify(x)).toBeGreaterThanOrEqual(x.processed);
    // After the run: the final numbers (the workers' last counts, the consumer's) equal the result's.
    const end = await read(scrape!);
    expect(result.totals.unfinished).toBe(0);
    expect(end.published).toBe(result.totals.wholeRun.events);
    expect(end.processed).toBe(result.consumer!.processed + result.consumer!.failed);
    expect(result.consumer!.caughtUp).toBe(true);
  }, 120_000);
});
