/**
 * Traces (--otlp): one event's append span and consume span share one trace id, the consume span being the
 * append's child, through a real run on each backend (the SDK's in-memory exporter records the spans);
 * on JetStream the trace context also travels as the message's `traceparent` header.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { SpanKind } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../../src/observability/tracing-sdk.ts';
import { runLoad } from '../../src/runners/load/run.ts';
import { setRunTracer } from '../../src/runners/load/tracing.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

let tracing: Tracing | undefined;
afterEach(async () => {
  setRunTracer(null);
  await tracing?.shutdown();
  tracing = undefined;
});

async function tracedRun(backend: 'memory' | 'postgres' | 'jetstream', namespace: string): Promise<ReadableSpan[]> {
  const exporter = new InMemorySpanExporter();
  tracing = startTracing({ exporter });
  setRunTracer(tracing.tracer);
  const result = await runLoad({
    backend,
    backendOptions: { namespace, pgUrl: testPgUrl(), natsUrl: testNatsUrl() },
    scenario: {
      executor: 'constant',
      rate: 40,
      workload: 'synthetic',
      seed: 3,
      runId: uniqueName('r'),
      durationMs: 1000,
      warmupMs: 0,
      maxInFlight: 100,
      workers: 1,
      drainTimeoutMs: 5000,
      consumer: true,
      metrics: false,
    },
  });
  expect(result.totals.wholeRun.errors).toBe(0);
  expect(result.consumer?.caughtUp).toBe(true);
  return exporter.getFinishedSpans();
}

function expectLinked(spans: ReadableSpan[]): void {
  const appends = spans.filter((s) => s.name === 'eventbench append');
  const consumes = spans.filter((s) => s.name === 'eventbench consume');
  expect(appends.length).toBeGreaterThan(10);
  expect(consumes.length).toBeGreaterThan(10);
  expect(appends.every((s) => s.kind === SpanKind.PRODUCER)).toBe(true);
  const byId = new Map(appends.map((s) => [s.spanContext().spanId, s]));
  for (const c of consumes) {
    expect(c.kind).toBe(SpanKind.CONSUMER);
    const parent = byId.get(c.parentSpanContext?.spanId ?? '');
    expect(parent, 'consume span whose parent is no append span').toBeDefined();
    expect(c.spanContext().traceId).toBe(parent!.spanContext().traceId);
  }
  // One trace per append: appends do not share trace ids.
  expect(new Set(appends.map((s) => s.spanContext().traceId)).size).toBe(appends.length);
}

describe('append -> consume traces', () => {
  it('memory: each consume span continues its append span’s trace', async () => {
    expectLinked(await tracedRun('memory', uniqueName('tr')));
  });

  it('postgres: the trace context survives the round trip through the database', async () => {
    expectLinked(await tracedRun('postgres', uniqueName('tr')));
  });

  it('jetstream: the same, and the message carries the trace context as a traceparent header', async () => {
    const namespace = uniqueName('tr');
    const spans = await tracedRun('jetstream', namespace);
    expectLinked(spans);
    const nc = await connect({ servers: testNatsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const streams = (await jsm.streams.list().next()).filter((s) => s.config.name.startsWith(`${namespace}-`));
      // The workload's category stream (the dead-letter stream is empty).
      const events = streams.find((s) => s.state.messages > 0);
      expect(events).toBeDefined();
      const msg = await jsm.streams.getMessage(events!.config.name, { seq: events!.state.first_seq });
      const header = msg!.header.get('traceparent');
      expect(header).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      const metadata = (msg!.json<{ metadata?: Record<string, unknown> }>().metadata ?? {}) as Record<string, unknown>;
      expect(metadata.traceparent).toBe(header);
      const traceIds = new Set(spans.filter((s) => s.name === 'eventbench append').map((s) => s.spanContext().traceId));
      expect(traceIds.has(header.split('-')[1]!)).toBe(true);
      for (const s of streams) await jsm.streams.delete(s.config.name);
    } finally {
      await nc.close();
    }
  });
});
