/**
 * What the load side records for one measurement window: HdrHistograms of latency (intended send time
 * -> ack), service time (actual send -> ack, the client's own view) and send delay (intended -> actual
 * send), counts of appends, events, errors by kind, dropped and late sends, and a per-second timeline.
 * `toResult()` is plain data that crosses worker threads; `mergeWindowResults` adds them up exactly.
 */
import { ERROR_KINDS, type ErrorKind } from '../../core/metrics.ts';
import { encodeHistogram, mergeEncoded, newHistogram, recordMs, type Histogram } from '../../report/histogram.ts';
import type { MeasuredWindow } from '../../report/result-assembly.ts';

/** A send is "late" when it left this long after its intended time (the generator fell behind). */
export const LATE_SEND_MS = 10;

export type ErrorCounts = Record<ErrorKind, number>;

export function emptyErrorCounts(): ErrorCounts {
  return Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as ErrorCounts;
}

interface SecondBucket {
  appends: number;
  events: number;
  errors: number;
  dropped: number;
  latency: Histogram;
}

/** One second of the window's timeline (the shape result assembly reads). */
export type SecondResult = MeasuredWindow['timeline'][number];

/** A window as result assembly reads it (src/report/result-assembly.ts), plus the event-type counts. */
export interface WindowResult extends MeasuredWindow {
  /** Event count per event type (acknowledged). */
  eventTypes: Record<string, number>;
}

export class WindowRecorder {
  sent = 0;
  appends = 0;
  events = 0;
  dropped = 0;
  late = 0;
  inFlight = 0;
  readonly errors = emptyErrorCounts();
  readonly eventTypes: Record<string, number> = {};
  readonly latency = newHistogram();
  readonly serviceTime = newHistogram();
  readonly sendDelay = newHistogram();
  private readonly seconds = new Map<number, SecondBucket>();

  /** Events acknowledged before the window's end (throughput counts these, by ack time). */
  eventsAckedInWindow = 0;
  /** The retry policy's counts (`--retries`); null when the phase has none. */
  private readonly retry: { limit: number; retries: number; retriedAppends: number; abandoned: number; latency: Histogram } | null;

  /**
   * @param originMs epoch ms that timeline second 0 starts at (the window's start).
   * @param endMs epoch ms the window ends at (acks after it do not count towards throughput).
   */
  /** @param retryLimit the closed loop's retries per append (`--retries`); absent: no retry policy. */
  constructor(
    readonly originMs: number,
    readonly endMs: number,
    retryLimit?: number,
  ) {
    this.retry = retryLimit === undefined ? null : { limit: retryLimit, retries: 0, retriedAppends: 0, abandoned: 0, latency: newHistogram() };
  }

  private bucket(atMs: number): SecondBucket {
    const s = Math.max(0, Math.floor((atMs - this.originMs) / 1000));
    let b = this.seconds.get(s);
    if (!b) {
      b = { appends: 0, events: 0, errors: 0, dropped: 0, latency: newHistogram() };
      this.seconds.set(s, b);
    }
    return b;
  }

  onSend(intendedMs: number, sentMs: number): void {
    this.sent += 1;
    this.inFlight += 1;
    const delay = sentMs - intendedMs;
    recordMs(this.sendDelay, delay);
    if (delay > LATE_SEND_MS) this.late += 1;
  }

  onAck(intendedMs: number, sentMs: number, ackMs: number, events: number, eventType: string): void {
    this.inFlight -= 1;
    this.appends += 1;
    this.events += events;
    if (ackMs < this.endMs) this.eventsAckedInWindow += events;
    this.eventTypes[eventType] = (this.eventTypes[eventType] ?? 0) + events;
    const latency = ackMs - intendedMs;
    recordMs(this.latency, latency);
    recordMs(this.serviceTime, ackMs - sentMs);
    const b = this.bucket(ackMs);
    b.appends += 1;
    b.events += events;
    recordMs(b.latency, latency);
  }

  onError(kind: ErrorKind, atMs: number): void {
    this.inFlight -= 1;
    this.errors[kind] += 1;
    this.bucket(atMs).errors += 1;
  }

  /** A conflict answered by a retry (the append is still in flight). */
  onRetry(): void {
    if (this.retry) this.retry.retries += 1;
  }

  /** A successful append that needed `retries` retries, `latencyMs` from its first send to the final ack. */
  onRetriedAck(latencyMs: number): void {
    if (!this.retry) return;
    this.retry.retriedAppends += 1;
    recordMs(this.retry.latency, latencyMs);
  }

  /** An append given up after the retry limit (also counted as a conflict error by `onError`). */
  onAbandoned(): void {
    if (this.retry) this.retry.abandoned += 1;
  }

  /** `count` due sends (intended at `intendedMs`, or within its second) that were not made. */
  onDropped(intendedMs: number, count = 1): void {
    this.dropped += count;
    this.bucket(intendedMs).dropped += count;
  }

  toResult(): WindowResult {
    return {
      sent: this.sent,
      appends: this.appends,
      events: this.events,
      eventsAckedInWindow: this.eventsAckedInWindow,
      errors: { ...this.errors },
      dropped: this.dropped,
      late: this.late,
      unfinished: this.inFlight,
      latency: encodeHistogram(this.latency),
      serviceTime: encodeHistogram(this.serviceTime),
      sendDelay: encodeHistogram(this.sendDelay),
      eventTypes: { ...this.eventTypes },
      timeline: [...this.seconds.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([second, b]) => ({ second, appends: b.appends, events: b.events, errors: b.errors, dropped: b.dropped, latency: encodeHistogram(b.latency) })),
      ...(this.retry ? { retries: { limit: this.retry.limit, retries: this.retry.retries, retriedAppends: this.retry.retriedAppends, abandoned: this.retry.abandoned, retriedLatency: encodeHistogram(this.retry.latency) } } : {}),
    };
  }
}

export function totalErrors(errors: ErrorCounts): number {
  return ERROR_KINDS.reduce((sum, k) => sum + errors[k], 0);
}

/** Adds window results from several workers: counts sum, histograms add (exact). */
export function mergeWindowResults(results: WindowResult[]): WindowResult {
  const errors = emptyErrorCounts();
  const eventTypes: Record<string, number> = {};
  const seconds = new Map<number, { appends: number; events: number; errors: number; dropped: number; latency: string[] }>();
  for (const r of results) {
    for (const k of ERROR_KINDS) errors[k] += r.errors[k];
    for (const [t, n] of Object.entries(r.eventTypes)) eventTypes[t] = (eventTypes[t] ?? 0) + n;
    for (const s of r.timeline) {
      const b = seconds.get(s.second) ?? { appends: 0, events: 0, errors: 0, dropped: 0, latency: [] };
      b.appends += s.appends;
      b.events += s.events;
      b.errors += s.errors;
      b.dropped += s.dropped;
      b.latency.push(s.latency);
      seconds.set(s.second, b);
    }
  }
  const sum = (f: (r: WindowResult) => number): number => results.reduce((acc, r) => acc + f(r), 0);
  return {
    sent: sum((r) => r.sent),
    appends: sum((r) => r.appends),
    events: sum((r) => r.events),
    eventsAckedInWindow: sum((r) => r.eventsAckedInWindow),
    errors,
    dropped: sum((r) => r.dropped),
    late: sum((r) => r.late),
    unfinished: sum((r) => r.unfinished),
    latency: encodeHistogram(mergeEncoded(results.map((r) => r.latency))),
    serviceTime: encodeHistogram(mergeEncoded(results.map((r) => r.serviceTime))),
    sendDelay: encodeHistogram(mergeEncoded(results.map((r) => r.sendDelay))),
    eventTypes,
    timeline: [...seconds.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([second, b]) => ({ second, appends: b.appends, events: b.events, errors: b.errors, dropped: b.dropped, latency: encodeHistogram(mergeEncoded(b.latency)) })),
    ...mergeRetries(results),
  };
}

/** The retry counts of several windows added up (absent when none had a retry policy). */
function mergeRetries(results: WindowResult[]): Pick<WindowResult, 'retries'> {
  const withPolicy = results.map((r) => r.retries).filter((r): r is NonNullable<WindowResult['retries']> => r !== undefined);
  if (withPolicy.length === 0) return {};
  const sum = (f: (r: NonNullable<WindowResult['retries']>) => number): number => withPolicy.reduce((a, r) => a + f(r), 0);
  return {
    retries: {
      limit: Math.max(...withPolicy.map((r) => r.limit)),
      retries: sum((r) => r.retries),
      retriedAppends: sum((r) => r.retriedAppends),
      abandoned: sum((r) => r.abandoned),
      retriedLatency: encodeHistogram(mergeEncoded(withPolicy.map((r) => r.retriedLatency))),
    },
  };
}
