/**
 * `ensureStream` when another process creates the same stream at the same moment. nats-server refuses
 * the slower create with "stream name already in use" (10058) or with "subjects overlap with an existing
 * stream" (10065), the stream in the way being this very one: a full test run saw the second when two
 * processes appended to a new category at once (test/jetstream/two-process-occ.int.test.ts, which now
 * creates its stream first). The race cannot be forced on a real server, and provoking it is unsafe on
 * the shared test server: nats-server 2.9.10 can crash in it (a nil pointer in jsMsgGetRequest, once in
 * ~50 rounds of 8 concurrent creators here). So these feed `ensureStream` the server's answers.
 */
import { JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { ensureStream, type StreamSpec } from '../../src/store/jetstream/streams.ts';

const cfg: StreamSpec = { name: 'ns-orders', subjects: ['ns.orders.*'] };

/** A JetStreamManager whose `add` is refused with `code`, and whose streams are `after` once it was. */
function refusingManager(code: number, description: string, after: StreamSpec[]): JetStreamManager {
  let refused = false;
  const notFound = () => new JetStreamApiError({ code: 404, err_code: 10059, description: 'stream not found' });
  return {
    streams: {
      async info(name: string) {
        const s = refused ? after.find((x) => x.name === name) : undefined;
        if (!s) throw notFound();
        return { config: s as StreamConfig };
      },
      async add() {
        refused = true;
        throw new JetStreamApiError({ code: 400, err_code: code, description });
      },
      async *list() {
        for (const s of refused ? after : []) yield { config: s as StreamConfig };
      },
    },
  } as unknown as JetStreamManager;
}

describe('ensureStream with a concurrent creator', () => {
  it.each([
    [10058, 'stream name already in use with a different configuration'],
    [10065, 'subjects overlap with an existing stream'],
  ])('refused with %i, the stream now exists: it is reported unchanged, not refused', async (code, description) => {
    const ensured = await ensureStream(refusingManager(code, description, [cfg]), cfg, 'category orders');
    expect(ensured.item).toMatchObject({ kind: 'stream', name: 'ns-orders', status: 'unchanged' });
  });

  it('refused with 10065 by another stream: a ConfigError naming it', async () => {
    const other = { name: 'other', subjects: ['ns.>'] };
    const err = await ensureStream(refusingManager(10065, 'subjects overlap with an existing stream', [other]), cfg, 'category orders').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(/existing stream other \(ns\.>\)/);
  });
});
