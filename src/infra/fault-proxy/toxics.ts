/**
 * The faults a TCP fault proxy can inject, in toxiproxy's vocabulary (type names and attribute names as
 * toxiproxy's JSON API spells them, so a toxiproxy user's toxic reads the same here). `stream` is the
 * direction: `upstream` = client -> server, `downstream` = server -> client, `both`.
 * Differences from toxiproxy, on purpose:
 * - `timeout` HOLDS the data while it is on (the sockets stop being read, so TCP's windows fill and the
 *   peers block) and delivers it in order once the toxic is removed. toxiproxy drops it. A real partition
 *   does not lose bytes inside a TCP connection (the kernel retransmits them), and bytes dropped from the
 *   middle of a PostgreSQL or NATS protocol stream would desynchronise the client, which no network does.
 *   A partition long enough to break connections is `timeout` with `timeout > 0` (closed after that long).
 * - `refuse` and `half_open` are not toxiproxy toxics: `refuse` is toxiproxy's disabled proxy for new
 *   connections only; `half_open` is one direction held, or the client side gone while the server side stays.
 * - no `toxicity` (probability per connection): every connection gets every toxic.
 */
import { z } from 'zod';

const direction = z.enum(['upstream', 'downstream', 'both']);
const ms = z.number().int().min(0).max(3_600_000);

export const ToxicSchema = z.discriminatedUnion('type', [
  /** Every chunk is delayed by `latency` +- `jitter` ms (uniform), counted from its arrival; order kept. */
  z.strictObject({ type: z.literal('latency'), stream: direction.default('downstream'), latency: ms, jitter: ms.default(0) }),
  /**
   * Partition / blackhole: no data passes in `stream`, nothing is closed, new connections hang (accepted,
   * but the server is not even dialled while upstream is held). Held data flows when the toxic is removed.
   * With `timeout > 0`, each connection is closed that many ms after the toxic met it.
   */
  z.strictObject({ type: z.literal('timeout'), stream: direction.default('both'), timeout: ms.default(0) }),
  /** New connections are refused (ECONNREFUSED: the listener is closed); open connections go on. */
  z.strictObject({ type: z.literal('refuse') }),
  /** Every connection (open ones and new ones) is reset `timeout` ms after the toxic met it: both peers get a TCP RST (ECONNRESET). */
  z.strictObject({ type: z.literal('reset_peer'), timeout: ms.default(0) }),
  /** At most `rate` KB/s (1 KB = 1000 bytes) in `stream`, sent in pieces of 100 ms worth. */
  z.strictObject({ type: z.literal('bandwidth'), stream: direction.default('downstream'), rate: z.number().int().positive().max(10_000_000) }),
  /** Data cut into pieces of `average_size` +- `size_variation` bytes, `delay` microseconds apart. */
  z.strictObject({
    type: z.literal('slicer'),
    stream: direction.default('downstream'),
    average_size: z.number().int().positive(),
    size_variation: z.number().int().min(0).default(0),
    delay: z.number().int().min(0).max(10_000_000).default(0),
  }),
  /** A connection is closed (both sides, FIN) once `bytes` bytes passed in `stream` since the toxic met it. */
  z.strictObject({ type: z.literal('limit_data'), stream: direction.default('downstream'), bytes: z.number().int().positive() }),
  /**
   * `one_way`: data in `stream` is held (as `timeout`) while the other direction flows.
   * `client_closed`: the connections open when the toxic starts lose their client side (the client sees
   * its connection closed) while the server side stays open and silent: the server keeps the session
   * (locks, a consumer's claim) as if the client were still there. Removing the toxic closes those
   * server-side sockets (as the server's TCP keepalive eventually would). New connections are unaffected.
   */
  z.strictObject({ type: z.literal('half_open'), mode: z.enum(['one_way', 'client_closed']), stream: z.enum(['upstream', 'downstream']).default('upstream') }),
]);

export type Toxic = z.output<typeof ToxicSchema>;
export type ToxicInput = z.input<typeof ToxicSchema>;
export type ToxicType = Toxic['type'];
export type Direction = 'upstream' | 'downstream';

/** Whether a toxic with this `stream` acts on direction `dir`. */
export function covers(stream: 'upstream' | 'downstream' | 'both', dir: Direction): boolean {
  return stream === 'both' || stream === dir;
}
