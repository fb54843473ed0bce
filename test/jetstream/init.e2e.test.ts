/**
 * `eventbench init --backend jetstream --preset <each>` as a user runs it (the CLI, a real nats-server via
 * --nats-url): creates the streams and consumers of docs/streams-and-consumers.md, a second run changes nothing, an existing stream
 * that differs is reported (exit 1) and left exactly as it was, and the R3 prod preset on a single server
 * is refused clearly. Each preset runs in its own namespace (`<NS>_` stream names, `<ns>.` subjects).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect, nanos } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InitReport } from '../../src/store/index.ts';
import { PRESETS, namespaced } from '../../src/store/jetstream/presets.ts';
import { consumerConfigOf, streamConfigOf } from '../../src/store/jetstream/init.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/eventbench.js', import.meta.url));
const prefix = uniqueName('jsinit');
let nc: Awaited<ReturnType<typeof connect>>;
let jsm: JetStreamManager;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const init = (preset: string, namespace: string) =>
  cli(['init', '--backend', 'jetstream', '--preset', preset, '--namespace', namespace, '--nats-url', testNatsUrl(), '--json']);

beforeAll(async () => {
  nc = await connect({ servers: testNatsUrl() });
  jsm = await jetstreamManager(nc);
});

afterAll(async () => {
  await nc?.close();
  await deleteStreams(testNatsUrl(), prefix.toUpperCase());
});

describe('eventbench init --backend jetstream --preset', () => {
  // One CLI start costs ~2 s of CPU here: run the presets side by side rather than one after the other.
  const EACH = ['DOCUMENT_EVENTS', 'FILE_UPLOADS', 'CASES', 'DOMAIN_DEV', 'DOMAIN_STAGING', 'BILLING_EVENTS'];
  it(`each preset (${EACH.join(', ')}) creates its configuration (docs/streams-and-consumers.md); a second run changes nothing`, async () => {
    const nsOf = (name: string) => `${prefix}_${name.toLowerCase()}`;
    const firsts = await Promise.all(EACH.map((name) => init(name, nsOf(name))));
    for (const [i, name] of EACH.entries()) {
      const first = firsts[i]!;
      const preset = namespaced(PRESETS[name]!, nsOf(name));
      expect(first.code, `${name}: ${first.stderr}`).toBe(0);
      const report = JSON.parse(first.stdout) as InitReport;
      expect(report.items.map((it) => [it.kind, it.name, it.status])).toEqual([
        ...preset.streams.map((s) => ['stream', s.name, 'created']),
        ...preset.consumers.map((c) => ['consumer', `${c.stream}/${c.durable}`, 'created']),
      ]);
      for (const s of preset.streams) {
        const info = await jsm.streams.info(s.name);
        expect(info.config, `${name}: stream ${s.name}`).toMatchObject(streamConfigOf(s));
      }
      for (const c of preset.consumers) {
        const info = await jsm.consumers.info(c.stream, c.durable);
        expect(info.config, `${name}: consumer ${c.durable}`).toMatchObject(consumerConfigOf(c));
      }
    }
    const seconds = await Promise.all(EACH.map((name) => init(name, nsOf(name))));
    for (const [i, name] of EACH.entries()) {
      expect(seconds[i]!.code, `${name}: ${seconds[i]!.stderr}`).toBe(0);
      const items = (JSON.parse(seconds[i]!.stdout) as InitReport).items;
      expect(items.length).toBeGreaterThan(0);
      expect(items.filter((it) => it.status !== 'unchanged'), name).toEqual([]);
    }
  }, 120_000);

  it('a conflicting existing stream is reported (exit 1) and left as it was', async () => {
    const ns = `${prefix}_conflict`;
    const preset = namespaced(PRESETS.BILLING_EVENTS!, ns);
    const theirs = { ...streamConfigOf(preset.streams[0]!), max_msgs: 10, max_age: nanos(60_000) };
    await jsm.streams.add(theirs);
    const run = await init('BILLING_EVENTS', ns);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/differ/);
    const item = (JSON.parse(run.stdout) as InitReport).items.find((i) => i.kind === 'stream')!;
    expect(item.status).toBe('differs');
    expect(item.detail).toMatch(/max_msgs: server 10, preset 1000000/);
    expect(item.detail).toMatch(/max_age/);
    const after = await jsm.streams.info(theirs.name);
    expect(after.config.max_msgs).toBe(10);
    expect(after.config.max_age).toBe(nanos(60_000));

    // Human-readable form too (without --json).
    const text = await cli(['init', '--backend', 'jetstream', '--preset', 'BILLING_EVENTS', '--namespace', ns, '--nats-url', testNatsUrl()]);
    expect(text.stdout).toMatch(/differs\s+stream/);
  });

  it('the same stream names with another environment (DOMAIN_DEV then DOMAIN_STAGING) differ and are not changed', async () => {
    const ns = `${prefix}_env`;
    expect((await init('DOMAIN_DEV', ns)).code).toBe(0);
    const run = await init('DOMAIN_STAGING', ns);
    expect(run.code).toBe(1);
    const items = (JSON.parse(run.stdout) as InitReport).items;
    expect(items.every((i) => i.status === 'differs')).toBe(true);
    const info = await jsm.streams.info(`${ns.toUpperCase()}_DOMAIN_SALES_EVENTS`);
    expect(info.config.max_age).toBe(nanos(24 * 60 * 60 * 1000));
  });

  it('DOMAIN_PROD (R3) on a single server is refused clearly, exit 2, nothing created', async () => {
    const ns = `${prefix}_prod`;
    const run = await init('DOMAIN_PROD', ns);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/3 replicas/);
    expect(run.stderr).toMatch(/cluster/);
    const names: string[] = [];
    for await (const si of jsm.streams.list()) names.push(si.config.name);
    expect(names.filter((n) => n.startsWith(ns.toUpperCase()))).toEqual([]);
  });
});
