/**
 * The run's consumer: a durable subscription on the workload's category running during the load. It
 * measures end-to-end latency (the append's intended send time, carried in metadata, to the moment the
 * handler runs; over the window and per second of it) and processing duration (the handler validating the event's data), and polls the
 * subscription's lag (queue depth) once a second. With --otlp each handled event gets a consumer span in
 * the trace of its append (tracing.ts). The subscription is the run's own (`load_<runId>`): it
 * is deleted when the run stops, so runs leave no checkpoints or durable consumers behind.
 */
import type { EventStore, RecordedEvent, Subscription, SubscriptionServerSettings } from '../../core/event-store.ts';
import type { ConsumeMetrics } from '../../core/metrics.ts';
import type { WorkloadModule } from '../../workloads/workload.ts';
import type { Clock } from './clock.ts';
import { INTENDED_AT_KEY } from './executor.ts';
import { newHistogram, recordMs, summarize, type Histogram } from '../../report/histogram.ts';
import { endConsumeSpan, startConsumeSpan } from './tracing.ts';

const LAG_POLL_MS = 1000;
/**
 * Deliveries handed out and not yet acknowledged, at most, unless the scenario says (`consumer:
 * { maxAckPending }`): 256 keeps a fast backend's consumer from being the run's limit here.
 */
export const DEFAULT_MAX_ACK_PENDING = 256;

/** The run consumer's settings a scenario may set (`consumer: { name: file_processor, maxAckPending: 100 }`). */
export interface RunConsumerSettings {
  /** The durable subscription's name (default `load_<runId>`); still deleted when the run ends. */
  name?: string;
  /** JetStream `max_ack_pending`; on PostgreSQL the subscription's bound on events in flight. */
  maxAckPending?: number;
}

/** What the result records of the consumer's settings: read back from the server where it holds them. */
export interface ConsumerSettingsRecord {
  name: string;
  maxAckPending: number;
  ackWaitMs: number | null;
  maxDeliver: number | null;
  /** `server`: from the server's consumer info; `client`: the bound the subscriber enforces itself (PostgreSQL). */
  source: 'server' | 'client';
}
/**
 * Seconds whose end-to-end histogram stays open for late deliveries; an older second is summarised to its
 * p50 / p99 and its histogram freed, so a long run keeps ~64 histograms, not one per second. An event
 * delivered more than ~64 s after its second counts in the whole window's histogram only.
 */
const OPEN_SECONDS = 64;

export class RunConsumer {
  processed = 0;
  failed = 0;
  lag = 0;
  lagMax = 0;
  lagError: string | null = null;
  /** Events handled whose intended time is inside the measured window. */
  endToEnd: Histogram = newHistogram();
  processing: Histogram = newHistogram();
  private windowStart = Number.POSITIVE_INFINITY;
  /** Second 0 of the per-second end-to-end percentiles: the first measured window's start. */
  private secondsOrigin = Number.NaN;
  private openSeconds = new Map<number, Histogram>();
  private closedSeconds = new Map<number, { p50: number; p99: number }>();
  private windowEnd = Number.POSITIVE_INFINITY;
  private subscription: Subscription | null = null;
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  /** The settings the consumer ran with, read back after it started (null before). */
  settings: ConsumerSettingsRecord | null = null;

  constructor(
    private readonly store: EventStore,
    private readonly workload: WorkloadModule,
    private readonly metrics: ConsumeMetrics,
    private readonly clock: Clock,
  ) {}

  async start(defaultName: string, settings: RunConsumerSettings = {}): Promise<void> {
    const name = settings.name ?? defaultName;
    const maxInFlight = settings.maxAckPending ?? DEFAULT_MAX_ACK_PENDING;
    this.subscription = await this.store.subscribe(name, (event) => this.handle(event), {
      category: this.workload.category,
      from: 'end',
      maxDeliver: 3,
      backoffMs: [100],
      maxInFlight,
      closeTimeoutMs: 2000,
    });
    // What ran, as the server holds it where it does (a JetStream consumer's info), not what was asked for.
    const server: SubscriptionServerSettings | undefined = await this.subscription.serverSettings?.();
    this.settings = server ? { ...server, source: 'server' } : { name, maxAckPending: maxInFlight, ackWaitMs: null, maxDeliver: 3, source: 'client' };
    this.timer = setInterval(() => void this.pollLag(), LAG_POLL_MS);
    this.timer.unref();
  }

  /** Only events intended inside [start, end) count towards the end-to-end histogram. */
  measureWindow(startMs: number, endMs: number): void {
    this.windowStart = startMs;
    this.windowEnd = endMs;
    if (Number.isNaN(this.secondsOrigin)) this.secondsOrigin = startMs;
  }

  /**
   * End-to-end p50 / p99 (ms) per second of the measured window, by the second each event was intended to
   * be sent in, keyed by seconds since `measureStart` (the timeline's second 0).
   */
  endToEndBySecond(measureStart: number): Map<number, { p50: number; p99: number }> {
    for (const s of [...this.openSeconds.keys()]) this.closeSecond(s);
    const shift = Math.round((this.secondsOrigin - measureStart) / 1000);
    return new Map([...this.closedSeconds].map(([s, v]) => [s + (Number.isNaN(shift) ? 0 : shift), v]));
  }

  private recordSecond(intended: number, e2e: number): void {
    const second = Math.floor((intended - this.secondsOrigin) / 1000);
    if (!(second >= 0) || this.closedSeconds.has(second)) return;
    let h = this.openSeconds.get(second);
    if (!h) {
      h = newHistogram();
      this.openSeconds.set(second, h);
      for (const s of this.openSeconds.keys()) if (s <= second - OPEN_SECONDS) this.closeSecond(s);
    }
    recordMs(h, e2e);
  }

  private closeSecond(second: number): void {
    const h = this.openSeconds.get(second);
    if (!h) return;
    const { p50, p99 } = summarize(h);
    this.closedSeconds.set(second, { p50, p99 });
    this.openSeconds.delete(second);
  }

  /** Starts a fresh end-to-end histogram (each `max` step gets its own). */
  resetHistograms(): void {
    this.endToEnd = newHistogram();
    this.processing = newHistogram();
  }

  private handle(event: RecordedEvent): void {
    const start = this.clock.now();
    const span = startConsumeSpan(event.metadata as Record<string, unknown> | undefined, event.type);
    let status: 'success' | 'failed' = 'success';
    try {
      this.workload.validate(event);
    } catch {
      status = 'failed';
    }
    const end = this.clock.now();
    endConsumeSpan(span, status);
    const intended = (event.metadata as Record<string, unknown> | undefined)?.[INTENDED_AT_KEY];
    const e2e = typeof intended === 'number' ? start - intended : undefined;
    if (status === 'success') this.processed += 1;
    else this.failed += 1;
    if (typeof intended === 'number' && intended >= this.windowStart && intended < this.windowEnd) {
      recordMs(this.endToEnd, e2e!);
      this.recordSecond(intended, e2e!);
      recordMs(this.processing, end - start);
    }
    this.metrics.processed(event.type, status, (end - start) / 1000, e2e === undefined ? undefined : e2e / 1000);
  }

  async pollLag(): Promise<number> {
    if (!this.subscription || this.polling) return this.lag;
    this.polling = true;
    try {
      this.lag = await this.subscription.lag();
      this.lagMax = Math.max(this.lagMax, this.lag);
      this.metrics.setQueueDepth(this.lag);
      this.lagError = null;
    } catch (err) {
      this.lagError = (err as Error).message;
    } finally {
      this.polling = false;
    }
    return this.lag;
  }

  /** Waits until `count` events were handled (or the timeout passes); returns whether it caught up. */
  async drain(count: number, timeoutMs: number): Promise<boolean> {
    const deadline = this.clock.now() + timeoutMs;
    while (this.processed + this.failed < count && this.clock.now() < deadline) await this.clock.sleep(20);
    await this.pollLag();
    return this.processed + this.failed >= count;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const sub = this.subscription;
    this.subscription = null;
    if (!sub) return;
    await sub.close();
    await this.store.deleteSubscription(sub.name, { category: this.workload.category });
  }
}
