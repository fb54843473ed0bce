/**
 * The harness owns time (docs/design.md §Code rules, code rule 6): every intended send time, send time, ack time and handler
 * time comes from one injectable clock. Times are epoch milliseconds (float), so worker threads and the
 * consumer agree on them; tests inject a virtual clock.
 */
export interface Clock {
  /** Epoch milliseconds, sub-millisecond resolution. */
  now(): number;
  /** Resolves after `ms` of this clock's time (early when `signal` aborts). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  // timeOrigin + performance.now() is monotonic within a thread and epoch-aligned across threads.
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/**
 * A clock whose time moves only when every waiter is asleep: `sleep` queues a timer and the earliest
 * timer fires on the next macrotask (after all promise reactions ran). Deterministic: a simulated
 * 10 s run takes milliseconds. For unit tests of scheduling and latency accounting.
 */
export function createVirtualClock(start = 1_700_000_000_000): Clock & { timers(): number } {
  let now = start;
  let seq = 0;
  const timers: { at: number; seq: number; resolve: () => void }[] = [];
  let scheduled = false;
  const fire = (): void => {
    scheduled = false;
    timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const t = timers.shift();
    if (!t) return;
    now = Math.max(now, t.at);
    t.resolve();
    if (timers.length > 0) schedule();
  };
  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(fire);
  };
  return {
    now: () => now,
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted) return resolve();
        const timer = { at: now + Math.max(0, ms), seq: seq++, resolve };
        timers.push(timer);
        signal?.addEventListener(
          'abort',
          () => {
            const i = timers.indexOf(timer);
            if (i >= 0) timers.splice(i, 1);
            resolve();
          },
          { once: true },
        );
        schedule();
      }),
    timers: () => timers.length,
  };
}
