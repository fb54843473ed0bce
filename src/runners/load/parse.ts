/**
 * Parsers for the load tester's textual inputs: rates (`100/s`, `100/sec`, `6000/min`), durations
 * (`60s`, `500ms`, `1m30s`) and ramp stages (`100/s:10s,1000/s:20s`). Every failure is a ConfigError
 * naming the flag, what is wrong and what is accepted. Thresholds live in thresholds.ts.
 */
import { ConfigError } from '../../core/event-store.ts';
import { fmtCount, formatRate } from '../../report/format.ts';
import { MAX_BATCH, MAX_EVENT_BYTES, MIN_EVENT_BYTES } from '../../workloads/synthetic.ts';
import { MAX_DURATION_MS, MAX_RATE_PER_SEC } from './limits.ts';

const RATE_UNITS: Record<string, number> = { s: 1, sec: 1, second: 1, m: 1 / 60, min: 1 / 60, minute: 1 / 60 };


/** Appends per second from `100/s`, `100/sec`, `1.5k/s`, `6000/min`, at most MAX_RATE_PER_SEC. */
export function parseRate(text: string, flag = '--rate'): number {
  const s = String(text);
  if (/^\s*[\d.]+e[+-]?\d+/i.test(s)) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)}: exponent notation is not accepted; write the number out, e.g. 1000/s or 1.5k/s (at most ${fmtCount(MAX_RATE_PER_SEC)}/s)`);
  }
  const m = /^\s*(\d+(?:\.\d+)?)(k)?\s*\/\s*([a-z]+)\s*$/i.exec(s);
  const unit = m ? RATE_UNITS[m[3]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} is not a rate: use e.g. 100/s, 100/sec or 6000/min`);
  }
  const rate = Number(m[1]) * (m[2] ? 1000 : 1) * unit;
  if (!(rate > 0) || !Number.isFinite(rate)) throw new ConfigError(`${flag} ${JSON.stringify(text)} must be greater than 0`);
  checkRateLimit(rate, `${flag} ${JSON.stringify(text)}`);
  return rate;
}

/** Refuses a rate above MAX_RATE_PER_SEC, saying what it amounts to and where the limit is. */
export function checkRateLimit(perSec: number, what: string): void {
  if (perSec > MAX_RATE_PER_SEC) {
    throw new ConfigError(`${what} is ${formatRate(perSec)}, above the limit of ${fmtCount(MAX_RATE_PER_SEC)}/s in total: the arrival schedule cannot honour more on one machine`);
  }
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds from `60s`, `500ms`, `1m30s`, `2h`, `1d`. A bare number is seconds. At most 7 days. */
export function parseDuration(text: string, flag = '--duration', options: { allowZero?: boolean; maxMs?: number } = {}): number {
  const s = String(text).trim();
  let ms: number;
  if (/^\d+(\.\d+)?$/.test(s)) {
    ms = Number(s) * 1000;
  } else {
    const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) {
      throw new ConfigError(`${flag} ${JSON.stringify(text)} is not a duration: use e.g. 60s, 500ms or 1m30s`);
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
  }
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !options.allowZero)) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} must be a positive duration (e.g. 10s)`);
  }
  const max = options.maxMs ?? MAX_DURATION_MS;
  if (ms > max) throw new ConfigError(`${flag} ${JSON.stringify(text)} is longer than the limit of ${formatDuration(max)}`);
  return Math.round(ms);
}

/** `7d`, `90s`, `1.5s`, `500ms` */
export function formatDuration(ms: number): string {
  if (ms >= 86_400_000 && ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 1000) return `${Number((ms / 1000).toPrecision(6))}s`;
  return `${ms}ms`;
}

export interface Stage {
  /** Target rate at the end of the stage (appends/s); the rate moves linearly from the previous target, as k6's ramping-arrival-rate. */
  rate: number;
  durationMs: number;
}

/** `100/s:10s,1000/s:20s` -> stages; their durations add up to at most the duration limit. */
export function parseStages(text: string, flag = '--stages'): Stage[] {
  const items = String(text).split(',').map((s) => s.trim()).filter(Boolean);
  if (items.length === 0) throw new ConfigError(`${flag} is empty: use e.g. '100/s:10s,1000/s:20s'`);
  const stages = items.map((item) => {
    const idx = item.lastIndexOf(':');
    if (idx <= 0) throw new ConfigError(`${flag} stage ${JSON.stringify(item)} must be <rate>:<duration>, e.g. 1000/s:20s`);
    return { rate: parseRateOrZero(item.slice(0, idx), flag), durationMs: parseDuration(item.slice(idx + 1), flag) };
  });
  const total = stages.reduce((a, s) => a + s.durationMs, 0);
  if (total > MAX_DURATION_MS) throw new ConfigError(`${flag}: the stages last ${formatDuration(total)} together, longer than the limit of ${formatDuration(MAX_DURATION_MS)}`);
  return stages;
}

function parseRateOrZero(text: string, flag: string): number {
  if (/^\s*0(\/[a-z]+)?\s*$/i.test(text)) return 0;
  return parseRate(text, flag);
}

export function parsePositiveInt(text: string, flag: string, max = 1_000_000): number {
  const n = Number(text);
  if (!/^\s*\d+\s*$/.test(String(text)) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new ConfigError(`${flag} ${JSON.stringify(text)} must be a whole number from 1 to ${fmtCount(max)}`);
  }
  return n;
}

/** `--batch n`: the synthetic workload's events per append; other workloads decide their own appends. */
export function parseBatch(text: string, workload: string): number {
  if (workload !== 'synthetic') throw new ConfigError(`--batch sets the synthetic workload's events per append; ${workload} decides its own (use --workload synthetic or drop --batch)`);
  return parsePositiveInt(text, '--batch', MAX_BATCH);
}

/** `--event-size bytes`: the synthetic workload's data size; other workloads' events have their domain's sizes. */
export function parseEventSize(text: string, workload: string): number {
  if (workload !== 'synthetic') throw new ConfigError(`--event-size sets the synthetic workload's event size; ${workload}'s events have the sizes of their domain (use --workload synthetic or drop --event-size)`);
  const bytes = parsePositiveInt(text, '--event-size', MAX_EVENT_BYTES);
  if (bytes < MIN_EVENT_BYTES) throw new ConfigError(`--event-size ${bytes}: at least ${MIN_EVENT_BYTES} bytes (the event's own fields take about 60)`);
  return bytes;
}

/** A durable consumer / subscription name JetStream and PostgreSQL both take. */
const CONSUMER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** `--consumer-name`, `--max-ack-pending`: the run consumer's settings (absent: `load_<runId>`, 256). */
export function parseConsumerSettings(name: string | undefined, maxAckPending: string | undefined): { name?: string; maxAckPending?: number } {
  if (name !== undefined && !CONSUMER_NAME.test(name)) throw new ConfigError(`--consumer-name ${JSON.stringify(name)}: letters, digits, "_" and "-", at most 64 (a JetStream durable name)`);
  return {
    ...(name !== undefined ? { name } : {}),
    ...(maxAckPending !== undefined ? { maxAckPending: parsePositiveInt(maxAckPending, '--max-ack-pending', 100_000) } : {}),
  };
}
