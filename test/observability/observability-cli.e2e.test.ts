/**
 * The observability flags as a user runs them: bad values refused with one line and exit 2 before anything
 * starts; `--otlp` really sends the run's spans to an OTLP/HTTP endpoint (a local receiver here), from
 * every load worker too; /metrics carries NATS server metrics under prometheus-nats-exporter's names, for
 * every node of a replicated cluster; `chaos --metrics-port` serves the chaos series.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventbench, startEventbench } from '../load/cli.ts';

interface Received {
  path: string;
  type: string;
  body: Buffer;
}

/** A local OTLP/HTTP receiver that keeps every request; `close()` ends it. */
async function otlpReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', type: String(req.headers['content-type']), body: Buffer.concat(chunks) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    received,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface OtlpSpan {
  name: string;
  spanId: string;
  traceId: string;
  parentSpanId?: string;
}
interface OtlpJson {
  resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
}

/** Spans by the thread (`eventbench.thread` resource attribute) that exported them (OTLP/JSON bodies). */
function spansByThread(received: Received[]): Map<string, OtlpSpan[]> {
  const byThread = new Map<string, OtlpSpan[]>();
  for (const r of received) {
    const body = JSON.parse(r.body.toString('utf8')) as OtlpJson;
    for (const rs of body.resourceSpans) {
      const thread = rs.resource.attributes.find((a) => a.key === 'eventbench.thread')?.value.stringValue ?? '?';
      byThread.set(thread, [...(byThread.get(thread) ?? []), ...rs.scopeSpans.flatMap((s) => s.spans)]);
    }
  }
  return byThread;
}

describe('observability flags', () => {
  it.each([
    [['--otlp', 'not a url'], /--otlp "not a url": not a URL/],
    [['--otlp', 'ftp://127.0.0.1:4318'], /--otlp .*must be http/],
    [['--prometheus', '--no-metrics'], /--prometheus with --no-metrics/],
    [['--nats-monitor-url', 'nats://127.0.0.1:4222'], /--nats-monitor-url .*must be http/],
  ])('refuses %j with one line and exit 2', async (flags, message) => {
    const run = await eventbench(['load', '--backend', 'memory', '--duration', '1s', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--otlp sends the run’s spans to the collector', async () => {
    const receiver = await otlpReceiver();
    try {
      const run = await eventbench(['load', '--backend', 'memory', '--rate', '50/s', '--duration', '1s', '--otlp', receiver.url]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`traces to ${receiver.url}/v1/traces`);
      expect(receiver.received.length).toBeGreaterThan(0);
      expect(receiver.received[0]).toMatchObject({ path: '/v1/traces' });
      expect(receiver.received.reduce((n, r) => n + r.body.length, 0)).toBeGreaterThan(1000);
    } finally {
      await receiver.close();
    }
  });

  it('--otlp with --workers 2: each worker exports its append spans, the consumer continues their traces', async () => {
    const receiver = await otlpReceiver();
    try {
      const run = await eventbench(['load', '--backend', 'jetstream', '--infra', 'managed', '--workers', '2', '--rate', '100/s', '--duration', '2s', '--otlp', receiver.url], 90_000);
      expect(run.code, run.stderr).toBe(0);
      const byThread = spansByThread(receiver.received);
      const appends = new Map<string, OtlpSpan>();
      for (const worker of ['worker 0', 'worker 1']) {
        const spans = (byThread.get(worker) ?? []).filter((s) => s.name === 'eventbench append');
        expect(spans.length, `${worker}: ${[...byThread.keys()].join(', ')}`).toBeGreaterThan(20);
        for (const s of spans) appends.set(s.spanId, s);
      }
      // The main thread holds the consumer: its consume spans are children of the workers' append spans.
      const consumes = (byThread.get('main') ?? []).filter((s) => s.name === 'eventbench consume');
      expect(consumes.length).toBeGreaterThan(20);
      for (const c of consumes) {
        const parent = appends.get(c.parentSpanId ?? '');
        expect(parent, `consume span ${c.spanId} without a worker append span as parent`).toBeDefined();
        expect(c.traceId).toBe(parent!.traceId);
      }
    } finally {
      await receiver.close();
    }
  });

  it('/metrics polls every node of a replicated JetStream cluster', async () => {
    const cli = startEventbench(['load', '--backend', 'jetstream', '--topology', 'replicated', '--infra', 'managed', '--rate', '100/s', '--duration', '4s', '--metrics-port', '0'], 90_000);
    const [, url] = await cli.waitForStderr(/metrics at (http:\/\/\S+)/, 60_000);
    let servers = new Set<string>();
    for (let i = 0; i < 40 && servers.size < 3; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const text = await (await fetch(url!)).text();
      servers = new Set([...text.matchAll(/^gnatsd_varz_in_msgs\{[^}]*server_id="(N[A-Z0-9]+)"/gm)].map((m) => m[1]!));
    }
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(0);
    expect(servers.size).toBe(3);
  });

  it.each([
    [['--metrics-port', 'http'], /--metrics-port "http" must be a port number/],
    [['--prometheus', '--infra', 'external'], /--infra external needs a PostgreSQL URL/],
  ])('chaos refuses %j with one line and exit 2', async (flags, message) => {
    const run = await eventbench(['chaos', '--backend', 'postgres', '--scenario', 'latency', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('chaos --metrics-port serves the chaos series while the run goes', async () => {
    // Its results go to a directory of the test's own, removed at the end (without --out a run writes to a new temp dir it leaves for the user).
    const out = mkdtempSync(join(tmpdir(), 'eventbench-obs-chaos-'));
    const cli = startEventbench(['chaos', '--backend', 'jetstream', '--scenario', 'network_partition', '--duration', '3s', '--infra', 'managed', '--metrics-port', '0', '--out', join(out, 'run')], 90_000);
    try {
      const [, url] = await cli.waitForStderr(/metrics at (http:\/\/\S+)/);
      // Scrape until the fault is on (the timeline starts it 0.75 s into the load).
      let during = '';
      for (let i = 0; i < 200 && !/^eventbench_chaos_fault_active\{[^}]*\} 1$/m.test(during); i++) {
        await new Promise((r) => setTimeout(r, 50));
        during = await (await fetch(url!)).text().catch(() => '');
      }
      const run = await cli.done;
      expect(run.code, run.stderr).toBe(0);
      expect(during).toMatch(/^eventbench_chaos_fault_active\{backend="jetstream",scenario="network_partition",fault="network_timeout",target="nats"\} 1$/m);
      expect(during).toMatch(/^eventbench_chaos_append_attempts_total\{backend="jetstream",scenario="network_partition"\} [1-9]\d*$/m);
      // NATS server metrics come along, as with load.
      expect(during).toMatch(/^gnatsd_varz_in_msgs\{/m);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('/metrics exports the NATS server’s numbers under the exporter’s names', async () => {
    const cli = startEventbench(['load', '--backend', 'jetstream', '--infra', 'managed', '--rate', '100/s', '--duration', '4s', '--metrics-port', '0'], 60_000);
    const [, url] = await cli.waitForStderr(/metrics at (http:\/\/\S+)/);
    // Wait for the run's consumer (a JetStream consumer) to exist, then read one scrape.
    let text = '';
    for (let i = 0; i < 40 && !/jetstream_consumer_num_pending\{/.test(text); i++) {
      await new Promise((r) => setTimeout(r, 100));
      text = await (await fetch(url!)).text();
    }
    const run = await cli.done;
    expect(run.code, run.stderr).toBe(0);
    for (const name of ['gnatsd_varz_in_msgs', 'gnatsd_varz_out_bytes', 'gnatsd_varz_slow_consumers', 'gnatsd_connz_num_connections', 'jetstream_server_total_message_bytes', 'jetstream_stream_total_messages', 'jetstream_consumer_num_pending', 'jetstream_consumer_num_ack_pending']) {
      expect(text, name).toMatch(new RegExp(`^${name}\\{[^}]*server_id="N[A-Z0-9]+"`, 'm'));
    }
    expect(text).toMatch(/^jetstream_stream_total_messages\{[^}]*stream_name="eventbench-[^"]+"/m);
  });
});
