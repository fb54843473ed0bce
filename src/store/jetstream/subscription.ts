/**
 * Durable subscriptions on JetStream: one durable pull consumer per (category, subscription name),
 * shared by every subscriber of that name (competing consumers), explicit ack.
 *
 * Retry and backoff: a handler that throws is `nak(delay)`ed with `backoffMs[attempt-1]`. The consumer's
 * own `backoff` list is not the tool for this: nats-server applies it only when the ack wait expires (a
 * plain nak is redelivered at once, checked on 2.9.10), and it replaces `ack_wait` for the first delivery
 * (AckWait = BackOff[0]). So the consumer gets a backoff only for ack-wait expiries (a handler that hung or
 * a subscriber that died), each step at least `ackWaitMs`, and only where it changes something.
 *
 * Dead letters: on the last delivery (`attempt == maxDeliver`) the client writes the event, the reason
 * (the handler's error message) and the delivery count to the dead-letter stream, then `term()`s the
 * message. Done in the client because only the client knows the reason, and because the server's
 * MAX_DELIVERIES advisory is a core-NATS message that is lost when nobody listens at that moment. The
 * advisory is still listened to, for the case the client cannot handle: the last delivery expired
 * without a verdict (handler hung, process killed). Both writers use the msg id
 * `<stream>:<subscription>:<seq>`, so the dead-letter stream deduplicates them.
 */
import { nanos, type NatsConnection, type Subscription as NatsSubscription } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  type DeadLetter,
  type EventHandler,
  type RecordedEvent,
  type Subscription,
  type SubscriptionOptions,
} from '../../core/event-store.ts';
import { resolveSubscriptionOptions, type ResolvedSubscriptionOptions } from '../../core/validate.ts';
import { JS_ERR, apiCode, translateReadError } from './errors.ts';

export interface SubscriptionDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  jsStream: string;
  filter: string;
  deadLetterSubject: string;
  decode(msg: { data: Uint8Array; subject: string; seq: number }): RecordedEvent;
  publishTimeoutMs: number;
  onClosed(sub: Subscription): void;
}

type Resolved = ResolvedSubscriptionOptions;

/**
 * How long one pull request lives (nats.js sends the server an idle heartbeat every half of it). A pull
 * request waits at the consumer's leader: when that node dies, the request dies with it and nothing says
 * so; the client finds out only when two heartbeats are missed, then asks for the consumer and pulls again.
 * With nats.js's default (30 s, heartbeats every 15 s) a subscriber stood still for 44 s after its
 * consumer's leader was SIGKILLed (3-node cluster, nats-server 2.9.10; the replicated_leader_kill chaos
 * scenario); with 5 s it resumes within seconds (test/topology/nats-cluster.int.test.ts). The price is a
 * pull request every 5 s and a heartbeat every 2.5 s while a subscription is idle.
 */
export const PULL_EXPIRES_MS = 5_000;

/** Server-side backoff for ack-wait expiries only (see the file comment), or undefined when it would change nothing. */
function ackExpiryBackoff(r: Resolved): number[] | undefined {
  if (r.maxDeliver <= 1) return undefined;
  const steps = Math.min(r.backoffMs.length, r.maxDeliver - 1);
  const list = r.backoffMs.slice(0, steps).map((b) => Math.max(b, r.ackWaitMs));
  return list.some((b) => b > r.ackWaitMs) ? list : undefined;
}

export function consumerConfig(name: string, filter: string, r: Resolved): Partial<ConsumerConfig> {
  const backoff = ackExpiryBackoff(r);
  return {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(r.ackWaitMs),
    max_deliver: r.maxDeliver,
    max_ack_pending: r.maxInFlight,
    filter_subject: filter,
    deliver_policy: r.from === 'end' ? DeliverPolicy.New : DeliverPolicy.All,
    ...(backoff ? { backoff: backoff.map((b) => nanos(b)) } : {}),
  };
}

export async function openSubscription(
  deps: SubscriptionDeps,
  name: string,
  handler: EventHandler,
  options: SubscriptionOptions,
): Promise<Subscription> {
  const r = resolveSubscriptionOptions(name, options);
  const want = consumerConfig(name, deps.filter, r);
  const { jsm, js, jsStream } = deps;

  try {
    // A known consumer resumes from its checkpoint: its deliver policy and filter stay; the tunables follow the options.
    const existing = await jsm.consumers.info(jsStream, name).catch((err) => {
      if (apiCode(err) === JS_ERR.consumerNotFound) return undefined;
      throw err;
    });
    if (!existing) {
      await jsm.consumers.add(jsStream, want);
    } else {
      const c = existing.config;
      const differs =
        c.ack_wait !== want.ack_wait ||
        c.max_deliver !== want.max_deliver ||
        c.max_ack_pending !== want.max_ack_pending ||
        JSON.stringify(c.backoff ?? []) !== JSON.stringify(want.backoff ?? []);
      if (differs) {
        await jsm.consumers.add(jsStream, { ...want, deliver_policy: c.deliver_policy, filter_subject: c.filter_subject });
      }
    }
  } catch (err) {
    throw translateReadError(err);
  }

  const consumer = await js.consumers.get(jsStream, name).catch((err) => Promise.reject(translateReadError(err)));
  const messages: ConsumerMessages = await consumer
    .consume({ max_messages: r.batchSize, expires: PULL_EXPIRES_MS })
    .catch((err) => Promise.reject(translateReadError(err)));

  /** Set by close(): no new handler starts. */
  let stopping = false;
  /** Set when close() returns: handlers still running will not ack (their events are redelivered). */
  let abandoned = false;
  /**
   * Handlers run in delivery order, one at a time per chain: with `concurrency` 1 there is one chain, so
   * one subscriber sees its category in position order (the contract's single-consumer order); above 1
   * there is a chain per subject (one subject per event stream), at most `concurrency` of them running.
   * Messages wait meanwhile, each under its own ack wait (the server holds back more than maxInFlight).
   * Why: one chain handles one event per round trip of the handler's own appends, and each ack went out
   * in a socket write of its own (~70 us each in a CPU profile of the case processors, the largest
   * item); handlers side by side share round trips, and their acks share writes (nats.js flushes once per
   * microtask turn).
   */
  const chains = new Map<string, Promise<void>>();
  let running = 0;
  const waiting: (() => void)[] = [];
  const turn = (): Promise<void> => {
    if (running < r.concurrency) {
      running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => waiting.push(resolve));
  };
  const done = (): void => {
    const next = waiting.shift();
    if (next) next(); // the slot passes on
    else running--;
  };
  const encoder = new TextEncoder();

  const writeDeadLetter = async (event: RecordedEvent, deliveries: number, reason: string, seq: number) => {
    const letter: DeadLetter = { subscription: name, event, deliveries, reason, at: new Date().toISOString() };
    await js.publish(deps.deadLetterSubject, encoder.encode(JSON.stringify(letter)), {
      msgID: `${jsStream}:${name}:${seq}`,
      timeout: deps.publishTimeoutMs,
    });
  };

  const retryDelay = (attempt: number) => r.backoffMs[Math.min(attempt, r.backoffMs.length) - 1]!;

  const handle = async (m: JsMsg) => {
    if (stopping) return; // never started: unacknowledged, redelivered after ack wait
    const attempt = m.info.deliveryCount;
    let event: RecordedEvent;
    try {
      event = deps.decode(m);
    } catch (err) {
      // Not an eventbench envelope: no handler can ever take it. Dead-letter it at once.
      await writeDeadLetter(
        { stream: m.subject, position: m.seq } as unknown as RecordedEvent,
        attempt,
        `undecodable message: ${(err as Error).message}`,
        m.seq,
      ).catch(() => {});
      m.term();
      return;
    }
    try {
      await handler(event, { subscription: name, attempt });
    } catch (err) {
      if (abandoned) return;
      const reason = err instanceof Error ? err.message : String(err);
      if (attempt >= r.maxDeliver) {
        try {
          await writeDeadLetter(event, attempt, reason, m.seq);
          m.term();
        } catch {
          // Could not write the dead letter: leave the message; on ack-wait expiry the server's
          // MAX_DELIVERIES advisory reaches the listener below, which writes it.
        }
      } else {
        m.nak(retryDelay(attempt));
      }
      return;
    }
    if (!abandoned) m.ack();
  };

  const dispatch = (m: JsMsg) => {
    const key = r.concurrency === 1 ? '' : m.subject;
    const previous = chains.get(key);
    // eslint-disable-next-line prefer-const
    let next: Promise<void> | undefined;
    next = (async () => {
      if (previous) await previous;
      await turn();
      try {
        await handle(m);
      } catch {
        // handle() settles the message itself; nothing to do here
      } finally {
        done();
        if (chains.get(key) === next) chains.delete(key);
      }
    })();
    chains.set(key, next);
  };

  const pump = (async () => {
    for await (const m of messages) {
      if (stopping) break;
      dispatch(m);
    }
  })().catch(() => {});

  // The last delivery expired without a verdict: the server tells us, and we dead-letter it.
  const advisories: NatsSubscription = deps.nc.subscribe(`$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${jsStream}.${name}`, {
    callback: (err, msg) => {
      if (err || abandoned) return;
      void (async () => {
        const adv = msg.json<{ stream_seq: number; deliveries: number }>();
        const stored = await jsm.streams.getMessage(jsStream, { seq: adv.stream_seq });
        if (!stored) return;
        await writeDeadLetter(
          deps.decode({ data: stored.data, subject: stored.subject, seq: stored.seq }),
          adv.deliveries,
          `no acknowledgement within ack wait on the last of ${r.maxDeliver} deliveries (handler too slow, or the subscriber died)`,
          stored.seq,
        );
      })().catch(() => {});
    },
  });

  let closing: Promise<void> | undefined;
  const sub: Subscription = {
    name,
    async lag() {
      try {
        const ci = await jsm.consumers.info(jsStream, name);
        return ci.num_pending + ci.num_ack_pending;
      } catch (err) {
        throw translateReadError(err);
      }
    },
    async serverSettings() {
      try {
        const { config } = await jsm.consumers.info(jsStream, name);
        return { name: config.durable_name ?? name, maxAckPending: config.max_ack_pending ?? -1, ackWaitMs: Math.round((config.ack_wait ?? 0) / 1e6), maxDeliver: config.max_deliver ?? -1 };
      } catch (err) {
        throw translateReadError(err);
      }
    },
    close() {
      closing ??= (async () => {
        stopping = true;
        await messages.close().catch(() => {});
        await pump;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.all(chains.values()),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, r.closeTimeoutMs);
          }),
        ]);
        clearTimeout(timer);
        abandoned = true;
        advisories?.unsubscribe();
        // Acks are fire-and-forget publishes: make sure the server has them before we say "closed".
        await deps.nc.flush().catch(() => {});
        deps.onClosed(sub);
      })();
      return closing;
    },
    async [Symbol.asyncDispose]() {
      await sub.close();
    },
  };
  return sub;
}
