/** The managed Prometheus's generated config passes `promtool check config` (Debian's promtool). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { prometheusConfig } from '../../src/infra/managed-prometheus.ts';

const dir = mkdtempSync(join(tmpdir(), 'eventbench-promtool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prometheusConfig', () => {
  const config = prometheusConfig({
    targets: [
      { job: 'eventbench', address: '127.0.0.1:9464', labels: { run: 'r1' } },
      { job: 'postgres', address: '127.0.0.1:9187', labels: { run: 'r1' } },
    ],
  });

  it('passes promtool check config', () => {
    const file = join(dir, 'prometheus.yml');
    writeFileSync(file, config);
    const out = execFileSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS/);
  });

  it('scrapes every target each second with its run label', () => {
    const parsed = parse(config) as { global: { scrape_interval: string }; scrape_configs: { job_name: string; static_configs: { targets: string[]; labels: Record<string, string> }[] }[] };
    expect(parsed.global.scrape_interval).toBe('1s');
    expect(parsed.scrape_configs.map((s) => [s.job_name, s.static_configs[0]!.targets[0], s.static_configs[0]!.labels.run])).toEqual([
      ['eventbench', '127.0.0.1:9464', 'r1'],
      ['postgres', '127.0.0.1:9187', 'r1'],
    ]);
  });

  it('is refused by promtool when broken (the check is not vacuous)', () => {
    const file = join(dir, 'broken.yml');
    writeFileSync(file, config.replace('1s', 'one second'));
    expect(() => execFileSync('promtool', ['check', 'config', file], { encoding: 'utf8', stdio: 'pipe' })).toThrow();
  });
});
