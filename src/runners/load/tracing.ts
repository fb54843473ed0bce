/**
 * Traces of an event's path, append -> consume (`--otlp URL`, off by default; docs/observability.md): the
 * load side opens a producer span per append and writes its W3C trace context (`traceparent`) into each
 * event's metadata (the JetStream adapter also sends it as a NATS header); the run consumer continues the
 * trace with a consumer span, so one event's append and consume share a trace id.
 *
 * Only the OpenTelemetry API here: which SDK and exporter record the spans is the CLI's choice
 * (src/observability/tracing-sdk.ts). Off, every call below is one null check, so the hot path is as before.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter, trace, type Span, type Tracer } from '@opentelemetry/api';
import { TRACE_PARENT_HEADER, W3CTraceContextPropagator } from '@opentelemetry/core';
import { getEnvironmentData, setEnvironmentData } from 'node:worker_threads';

/** The metadata key (and NATS header) carrying the trace context: W3C's own name. */
export const TRACEPARENT_KEY = TRACE_PARENT_HEADER;

const propagator = new W3CTraceContextPropagator();
let tracer: Tracer | null = null;

/** Turns tracing on for this thread (`null`: off). */
export function setRunTracer(t: Tracer | null): void {
  tracer = t;
}

/**
 * Load worker threads (`--workers` > 1) make their own append spans, so each needs its own SDK and
 * exporter: the OTLP URL reaches them as Node's per-thread environment data, which a Worker copies from
 * its parent when it is created (no change to the workers' config, nothing left in process.env for child
 * processes). Set before the workers start; `null` clears it.
 */
const WORKER_OTLP_KEY = 'eventbench.otlp-traces-url';

export function setWorkerTracing(otlpTracesUrl: string | null): void {
  setEnvironmentData(WORKER_OTLP_KEY, otlpTracesUrl ?? undefined);
}

/** In a worker thread: the OTLP URL its parent set, if tracing is on. */
export function workerTracingUrl(): string | undefined {
  const url = getEnvironmentData(WORKER_OTLP_KEY);
  return typeof url === 'string' ? url : undefined;
}

export interface AppendSpan {
  span: Span;
  traceparent: string;
}

/** A producer span for one append, or null when tracing is off. */
export function startAppendSpan(stream: string, eventType: string, events: number): AppendSpan | null {
  if (!tracer) return null;
  const span = tracer.startSpan('eventbench append', {
    kind: SpanKind.PRODUCER,
    attributes: { 'eventbench.stream': stream, 'eventbench.event_type': eventType, 'messaging.batch.message_count': events },
  });
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return { span, traceparent: carrier[TRACEPARENT_KEY]! };
}

export function endAppendSpan(s: AppendSpan | null, error?: unknown): void {
  if (!s) return;
  if (error !== undefined) s.span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  s.span.end();
}

/** A consumer span continuing the trace in the event's metadata (a new trace when it carries none), or null when off. */
export function startConsumeSpan(metadata: Record<string, unknown> | undefined, eventType: string): Span | null {
  if (!tracer) return null;
  const traceparent = metadata?.[TRACEPARENT_KEY];
  const parent = typeof traceparent === 'string' ? propagator.extract(ROOT_CONTEXT, { [TRACEPARENT_KEY]: traceparent }, defaultTextMapGetter) : ROOT_CONTEXT;
  return tracer.startSpan('eventbench consume', { kind: SpanKind.CONSUMER, attributes: { 'eventbench.event_type': eventType } }, parent);
}

export function endConsumeSpan(span: Span | null, status: 'success' | 'failed'): void {
  if (!span) return;
  if (status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: 'event data failed validation' });
  span.end();
}
