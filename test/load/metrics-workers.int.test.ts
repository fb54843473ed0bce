/**
 * /metrics with worker threads: the load workers' counts reach the scrape as they happen. Before, a
 * worker sent its counters every 500 ms while the consumer (main thread) counted live, so a scrape with
 * 2 workers showed event_published_total 432 next to event_processed_total 515. Now a scrape reads the
 * consumer's count first and then asks each worker for its counters at that moment, so every event
 * processed by then was sent before and is either acknowledged (published) or still in flight:
 * published + in flight >= processed at every scrape. (Published alone can trail by the appends in
 * flight: a JetStream consumer may receive a message before its publisher receives the ack; a full run
 * here saw 725 published next to 726 processed, with the 726th still awaiting its ack.) A worker too busy
 * to answer within SCRAPE_TIMEOUT_MS is represented by its latest periodic copy, so the rule holds for
 * every scrape that took less than that (one of a full test run's scrapes waited that long, and showed
 * 319 published + 13 in flight next to 398 processed). At the end, with nothing in flight, both equal
 * the result's counts.
 */
import { describe, expect, it } from 'vitest';
import { METRIC } from '../../src/core/metrics.ts';
import { SCRAPE_TIMEOUT_MS } from '../../src/runners/load/load-side.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { parseExposition, total } from './exposition.ts';

describe('metrics with 2 load workers (jetstream)', () => {
  it('never shows more processed than published, and ends at the result counts', async () => {
    let scrape: (() => Promise<string>) | null = null;
    type Counts = { published: number; processed: number; inFlight: number };
    /** Scrapes that every worker answered itself (they took less than SCRAPE_TIMEOUT_MS), and the others. */
    const seen: Counts[] = [];
    const late: Counts[] = [];
    const read = async (s: () => Promise<string>): Promise<Counts> => {
      const { samples } = parseExposition(await s());
      return { published: total(samples, METRIC.published), processed: total(samples, METRIC.processed), inFlight: total(samples, METRIC.inFlight) };
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
            const t0 = performance.now();
            const counts = await read(s);
            (performance.now() - t0 < SCRAPE_TIMEOUT_MS ? seen : late).push(counts);
            await new Promise((r) => setTimeout(r, 50));
          }
        })();
      },
    });
    await scraping;
    const during = seen.filter((x) => x.processed > 0);
    expect(during.length).toBeGreaterThanOrEqual(4);
    expect(late.length, JSON.stringify(late)).toBeLessThan(seen.length);
    for (const x of seen) expect(x.published + x.inFlight, JSON.stringify(x)).toBeGreaterThanOrEqual(x.processed);
    // After the run: the final numbers (the workers' last counts, the consumer's) equal the result's.
    const end = await read(scrape!);
    expect(result.totals.unfinished).toBe(0);
    expect(end.inFlight).toBe(0);
    expect(end.published).toBe(result.totals.wholeRun.events);
    expect(end.processed).toBe(result.consumer!.processed + result.consumer!.failed);
    expect(result.consumer!.caughtUp).toBe(true);
  }, 120_000);
});
