/**
 * `npm start` answers the product's question: the package script, run as npm runs it (its command line
 * from package.json), benches both backends on the quick `cases` scenario (max under the SLO, latency at
 * 50 % of it), writes report.html and ends with the verdict line and the report's path.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResultSchema } from '../../src/report/load-result.ts';
import { startEventbench } from '../load/cli.ts';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };

describe('npm start', () => {
  it('prints the verdict and the path of the report it wrote', async () => {
    const script = pkg.scripts.start!;
    expect(script).toMatch(/^node bin\/eventbench\.js bench --scenario cases --quick --latency-at 0\.5$/);
    const args = script.replace(/^node bin\/eventbench\.js /, '').split(' ');
    const r = await startEventbench(args, 170_000).done;
    const report = /^report: (.+report\.html)$/m.exec(r.stdout)?.[1];
    try {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^verdict: .*(postgres|jetstream).*(postgres|jetstream).*\. An ack means: .*postgres .*jetstream |^verdict: .*\. An ack means: .*jetstream .*postgres /m);
      expect(report).toBeDefined();
      expect(existsSync(report!)).toBe(true);
      const result = loadResultSchema.parse(JSON.parse(readFileSync(`${dirname(report!)}/result.json`, 'utf8')));
      expect(result.scenario.executor).toBe('max');
      expect(result.backends.filter((b) => b.baselineOf === null).map((b) => b.backend)).toEqual(expect.arrayContaining(['postgres', 'jetstream']));
      // The rounds at 50 % of the max found carry cases through the processors too (a round that resent the
      // max round's events into the same namespace stored nothing new: 0 cases completed).
      // A backend whose quick search met the SLO at no step (a loaded machine: the other test files share
      // the 2 cores) has no such round, and the verdict says so; every backend that found a rate has one.
      const verdict = /^verdict: .*$/m.exec(r.stdout)?.[0];
      const found = result.backends.filter((b) => b.baselineOf === null && !b.latencyAt && (b.maxSearch?.sustainableRate ?? null) !== null).map((b) => b.backend);
      expect(found.length, verdict).toBeGreaterThan(0);
      const at50 = result.backends.filter((b) => b.latencyAt?.fraction === 0.5);
      expect(at50.map((b) => b.backend).sort(), verdict).toEqual([...new Set(found)].sort());
      for (const b of at50) expect(b.pipeline?.casesCompleted, b.backend).toBeGreaterThan(0);
      for (const backend of ['postgres', 'jetstream'].filter((x) => !found.includes(x))) expect(verdict).toMatch(new RegExp(`${backend} met p99<50ms at no step`));
    } finally {
      if (report) rmSync(dirname(report), { recursive: true, force: true });
    }
  }, 180_000);
});
