/**
 * Several load workers on JetStream, without a consumer: the run creates the category's stream once,
 * before the workers start. Each worker would otherwise create it on its first append, all at about the
 * same moment, and concurrent creates of one stream can crash nats-server 2.9.10
 * (src/store/jetstream/README.md).
 *
 * Checked when the run reports "starting 3 workers" (no worker thread exists yet, so none has appended):
 * the stream must already be there. Without the preparation it is not, every time. The JetStream API
 * audit advisories then count the creates of the run's streams: the category's once.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import { runLoad } from '../../src/runners/load/run.ts';
import { jetStreamNames } from '../../src/store/jetstream/naming.ts';
import { testNatsUrl, uniqueName } from '../support/servers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';

const WORKERS = 3;

describe(`load with ${WORKERS} workers on JetStream, no consumer`, () => {
  it('creates the category stream once, before the workers start', { timeout: 60_000 }, async () => {
    const namespace = uniqueName('lw');
    const names = jetStreamNames(namespace);
    const nc = await connect({ servers: testNatsUrl() });
    try {
      const jsm = await jetstreamManager(nc);
      const creates: string[] = [];
      nc.subscribe('$JS.EVENT.ADVISORY.API', {
        callback: (_err, msg) => {
          const subject = (msg.json() as { subject?: string }).subject ?? '';
          if (subject.startsWith(`$JS.API.STREAM.CREATE.${namespace}-`)) creates.push(subject.slice('$JS.API.STREAM.CREATE.'.length));
        },
      });
      await nc.flush();
      let existedAtStart: Promise<boolean> | undefined;
      const r = await runLoad({
        backend: 'jetstream',
        backendOptions: { namespace, natsUrl: testNatsUrl() },
        scenario: { executor: 'constant', workload: 'synthetic', seed: 6, runId: uniqueName('r'), rate: 3000, durationMs: 1000, warmupMs: 0, maxInFlight: 1000, workers: WORKERS, drainTimeoutMs: 5000, consumer: false, metrics: false },
        onProgress: (p) => {
          if (p.phase.startsWith('starting') && p.phase.includes('workers')) {
            existedAtStart ??= jsm.streams.info(names.categoryStream('synthetic')).then(
              () => true,
              () => false,
            );
          }
        },
      });
      expect(existedAtStart).toBeDefined();
      expect(await existedAtStart).toBe(true);
      expect(r.totals.wholeRun.errors).toBe(0);
      expect(r.totals.sent).toBe(3000);
      await nc.flush();
      expect(creates.filter((s) => s === names.categoryStream('synthetic'))).toHaveLength(1);
    } finally {
      await nc.close();
      await deleteStreams(testNatsUrl(), namespace);
    }
  });
});
