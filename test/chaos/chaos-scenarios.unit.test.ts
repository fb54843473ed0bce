/**
 * The chaos scenarios are data (scenarios/chaos/*.yaml): every shipped file parses, its timeline is valid
 * on each backend it runs on, and a bad file is refused with one line naming the file and the field.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { checkFaultTimeline } from '../../src/runners/chaos/faults.ts';
import { loadScenario, scenarioNames, timelineFor } from '../../src/runners/chaos/scenario.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-test-scenarios-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('chaos scenarios', () => {
  it.each(scenarioNames())('%s parses, and its timeline acts on managed servers of every backend it runs on', (name) => {
    const s = loadScenario(name);
    for (const backend of s.backends) {
      const timeline = timelineFor(s, backend, 0.5);
      const target = backend === 'postgres' ? 'postgres' : 'nats';
      // Replicated: a managed cluster (node faults, no single client proxy) and a standby.
      const replicated = s.topology === 'replicated';
      const has = { managed: true, proxy: !(replicated && target === 'nats'), applicationName: true, standby: replicated, cluster: replicated };
      expect(() => checkFaultTimeline(timeline, { [target]: has, consumers: s.load.consumer ? ['c0'] : [] })).not.toThrow();
      // Every fault ends inside the load phase, so the writers can show the store recovering.
      for (const e of timeline) expect(e.at + e.duration).toBeLessThan(s.load.durationMs * 0.5);
      expect(s.expectations[backend]?.max).toMatchObject({ lost: 0, duplicates: 0 });
    }
  });

  it('timelines scale with --duration and get the backend server as target', () => {
    const s = loadScenario('network_partition');
    expect(timelineFor(s, 'jetstream', 2)).toEqual([{ at: 3000, duration: 6000, fault: { kind: 'network', target: 'nats', toxic: { type: 'timeout', stream: 'both', timeout: 0 } } }]);
  });

  const bad: [string, string, RegExp][] = [
    ['not yaml', 'description: a: b', /bad_1\.yaml: not valid YAML/],
    ['unknown field', 'description: x\nload: { writers: 1, streams: own, streamCount: 1, durationMs: 1000, rate: 5 }\nfaults: []', /load: Unrecognized key.*rate/],
    ['a target', 'description: x\nload: { writers: 1, streams: own, streamCount: 1, durationMs: 1000 }\nfaults: [{ at: 0, duration: 10, fault: { kind: kill, target: nats } }]', /leave "target" out/],
    ['an unknown toxic', 'description: x\nload: { writers: 1, streams: own, streamCount: 1, durationMs: 1000 }\nfaults: [{ at: 0, duration: 10, fault: { kind: network, toxic: { type: earthquake } } }]', /fault timeline \[0\]\.fault\.toxic\.type/],
  ];
  it.each(bad.map(([what, text, re], i) => [what, text, re, i] as const))('a scenario with %s is refused with one line', (_, text, re, i) => {
    writeFileSync(join(dir, `bad_${i + 1}.yaml`), text);
    expect(() => loadScenario(`bad_${i + 1}`, dir)).toThrow(ConfigError);
    expect(() => loadScenario(`bad_${i + 1}`, dir)).toThrow(re);
  });

  it('an unknown name lists the known ones', () => {
    expect(() => loadScenario('nope')).toThrow(/unknown chaos scenario "nope": available: .*network_partition/);
  });
});
