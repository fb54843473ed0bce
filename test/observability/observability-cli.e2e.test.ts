/**
 * The observability flags as a user runs them: bad values refused with one line and exit 2 before anything
 * starts; `--otlp` really sends the run's spans to an OTLP/HTTP endpoint (a local receiver here); /metrics
 * carries NATS server metrics under prometheus-nats-exporter's names.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { eventbench, startEventbench } from '../load/cli.ts';

describe('observability flags', () => {
  it.each([
    [['--otlp', 'not a url'], /--otlp "not a url": not a URL/],
    [['--otlp', 'ftp://127.0.0.1:4318'], /--otlp .*must be http/],
    [['--otlp', 'http://127.0.0.1:4318', '--workers', '2'], /--otlp with --workers 2: .*use --workers 1/],
    [['--prometheus', '--no-metrics'], /--prometheus with --no-metrics/],
    [['--nats-monitor-url', 'nats://127.0.0.1:4222'], /--nats-monitor-url .*must be http/],
  ])('refuses %j with one line and exit 2', async (flags, message) => {
    const run = await eventbench(['load', '--backend', 'memory', '--duration', '1s', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--otlp sends the run’s spans to the collector', async () => {
    const received: { path: string; type: string; bytes: number }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', type: String(req.headers['content-type']), bytes: Buffer.concat(chunks).length });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const run = await eventbench(['load', '--backend', 'memory', '--rate', '50/s', '--duration', '1s', '--otlp', `http://127.0.0.1:${port}`]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toContain(`traces to http://127.0.0.1:${port}/v1/traces`);
      expect(received.length).toBeGreaterThan(0);
      expect(received[0]).toMatchObject({ path: '/v1/traces' });
      expect(received.reduce((n, r) => n + r.bytes, 0)).toBeGreaterThan(1000);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
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
