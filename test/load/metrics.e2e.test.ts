/**
 * `--metrics-port`: Prometheus scrapes during a run see the series of docs/metrics.md with exactly its names and
 * labels (event_published_total{backend,event_type}, event_processed_total{backend,event_type,status},
 * event_processing_duration_seconds{backend,event_type}, event_queue_depth{backend}) plus the append
 * latency histogram and error counters. The test parses the exposition text.
 */
import { describe, expect, it } from 'vitest';
import { startEventbench } from './cli.ts';
import { parseExposition } from './exposition.ts';

describe('/metrics during a load run', () => {
  it('serves the docs/metrics.md series with the right labels', async () => {
    const run = startEventbench(['load', '--backend', 'memory', '--rate', '300/s', '--duration', '20s', '--metrics-port', '0']);
    try {
      const [, url] = (await run.waitForStderr(/metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/))!;
      await run.waitForStderr(/eventbench: \[memory\] measure/, 30_000);
      // Scrape until the consumer has processed something (bounded).
      let parsed = parseExposition('');
      for (let i = 0; i < 50; i++) {
        parsed = parseExposition(await (await fetch(url!)).text());
        if (parsed.samples.some((s) => s.name === 'event_processed_total' && s.value > 0)) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      const { samples, types } = parsed;
      const find = (name: string) => samples.filter((s) => s.name === name);

      expect(types.get('event_published_total')).toBe('counter');
      const published = find('event_published_total');
      expect(published.length).toBeGreaterThan(0);
      expect(published[0]!.labels).toEqual({ backend: 'memory', event_type: 'synthetic.recorded' });
      expect(published[0]!.value).toBeGreaterThan(0);

      expect(types.get('event_processed_total')).toBe('counter');
      const processed = find('event_processed_total');
      expect(processed[0]!.labels).toEqual({ backend: 'memory', event_type: 'synthetic.recorded', status: 'success' });
      expect(processed[0]!.value).toBeGreaterThan(0);

      expect(types.get('event_processing_duration_seconds')).toBe('histogram');
      const buckets = find('event_processing_duration_seconds_bucket');
      expect(buckets.length).toBeGreaterThan(1);
      expect(buckets[0]!.labels).toMatchObject({ backend: 'memory', event_type: 'synthetic.recorded' });
      expect(Object.keys(buckets[0]!.labels).sort()).toEqual(['backend', 'event_type', 'le']);
      expect(find('event_processing_duration_seconds_count')[0]!.value).toBeGreaterThan(0);

      expect(types.get('event_queue_depth')).toBe('gauge');
      expect(find('event_queue_depth')[0]!.labels).toEqual({ backend: 'memory' });

      expect(types.get('eventbench_append_duration_seconds')).toBe('histogram');
      expect(find('eventbench_append_duration_seconds_count')[0]).toMatchObject({ labels: { backend: 'memory' } });
      const errorKinds = find('eventbench_append_errors_total').map((s) => s.labels.kind).sort();
      expect(errorKinds).toEqual(['conflict', 'duplicate', 'other', 'unavailable', 'unknown_outcome']);
    } finally {
      run.child.kill('SIGINT');
      await run.done;
    }
  }, 90_000);
});
