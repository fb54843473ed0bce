/**
 * Progress of a load run on stderr: on a TTY one live line rewritten in place (target vs achieved rate,
 * p99 so far, errors, dropped, lag, time left); otherwise a log line every few seconds, so CI logs stay
 * readable.
 */
import { formatRate } from '../report/format.ts';
import type { Progress } from '../runners/load/run.ts';

const LOG_EVERY_MS = 5000;

export interface ProgressReporter {
  update(p: Progress): void;
  done(): void;
}

export function formatProgress(p: Progress): string {
  const left = Math.max(0, Math.ceil((p.totalMs - p.elapsedMs) / 1000));
  const rate = (v: number): string => formatRate(v >= 100 ? Math.round(v) : v);
  return [
    `[${p.backend}] ${p.phase}`,
    p.targetRate === null ? 'closed loop' : `target ${rate(p.targetRate)}`,
    `achieved ${rate(p.achievedRate)}`,
    `p99 ${p.p99Ms.toFixed(p.p99Ms >= 100 ? 0 : 1)}ms`,
    `errors ${p.errors}`,
    `dropped ${p.dropped}`,
    `in flight ${p.inFlight}`,
    `lag ${p.lag ?? 'n/a'}`,
    p.totalMs > 0 ? `${left}s left` : '',
  ]
    .filter(Boolean)
    .join('  ');
}

export function createProgressReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const tty = Boolean(stream.isTTY);
  // The first update is logged at once (a run starting many workers says so), then every LOG_EVERY_MS.
  let lastLog = Number.NEGATIVE_INFINITY;
  let drawn = false;
  return {
    update(p) {
      const line = formatProgress(p);
      if (tty) {
        stream.write(`\r\x1b[2K${line.slice(0, Math.max(40, (stream.columns || 160) - 1))}`);
        drawn = true;
      } else if (p.elapsedMs - lastLog >= LOG_EVERY_MS) {
        lastLog = p.elapsedMs;
        stream.write(`eventbench: ${line}\n`);
      }
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}
