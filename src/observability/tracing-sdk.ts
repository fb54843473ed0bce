/**
 * The OpenTelemetry SDK behind `--otlp URL`: a tracer provider whose spans go to an OTLP/HTTP collector
 * (Jaeger, Tempo, the OpenTelemetry Collector) in batches, off the hot path. The load runner only speaks
 * the API (src/runners/load/tracing.ts); tests hand in the SDK's in-memory exporter instead.
 */
import type { Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { otlpTracesUrl } from './otlp-url.ts';

export interface Tracing extends AsyncDisposable {
  readonly tracer: Tracer;
  /** Sends what is buffered and stops the exporter (idempotent). */
  shutdown(): Promise<void>;
}

/** Which thread's spans a resource holds (`eventbench.thread`: `main`, `worker 0`, ...). */
export const THREAD_ATTRIBUTE = 'eventbench.thread';

export function startTracing(options: ({ otlpUrl: string } | { exporter: SpanExporter }) & { thread?: string }): Tracing {
  // A test's in-memory exporter gets each span at its end; a collector gets them in batches.
  const processor = 'exporter' in options ? new SimpleSpanProcessor(options.exporter) : new BatchSpanProcessor(new OTLPTraceExporter({ url: otlpTracesUrl(options.otlpUrl) }));
  const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'eventbench', [THREAD_ATTRIBUTE]: options.thread ?? 'main' }), spanProcessors: [processor] });
  let done: Promise<void> | undefined;
  const shutdown = (): Promise<void> => (done ??= provider.shutdown());
  return { tracer: provider.getTracer('eventbench'), shutdown, [Symbol.asyncDispose]: shutdown };
}
