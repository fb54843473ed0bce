/**
 * `eventbench init --backend jetstream --preset DOMAIN_DEV` after `--preset all` on one server: the domain
 * streams' subjects overlap streams `all` created. nats-server only says "subjects overlap with an
 * existing stream" (10065); the refusal must name that stream and point at --namespace.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { initJetStream } from '../../src/store/jetstream/init.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from './helpers.ts';

const namespace = uniqueName('jsov');
const prefix = `${namespace.toUpperCase()}_`;

afterAll(async () => {
  await deleteStreams(testNatsUrl(), prefix);
});

describe('jetstream init: overlapping presets', () => {
  it('names the existing stream whose subjects overlap and suggests --namespace', async () => {
    const all = await initJetStream({ natsUrl: testNatsUrl(), namespace, preset: 'all' });
    expect(all.items.filter((i) => i.kind === 'stream').every((i) => i.status === 'created')).toBe(true);

    const err = await initJetStream({ natsUrl: testNatsUrl(), namespace, preset: 'DOMAIN_DEV' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    const created = all.items.filter((i) => i.kind === 'stream').map((i) => i.name);
    const named = created.filter((name) => message.includes(`existing stream ${name} `));
    expect(named.length, `one of ${created.join(', ')} named in: ${message}`).toBeGreaterThan(0);
    expect(message).toMatch(/--namespace/);
    expect(message).not.toMatch(/\n/);
  });
});
