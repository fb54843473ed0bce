import { describe, expect, it } from 'vitest';
import { CONSUMER_CHILD_ARGS_ENV, chaosConsumerCommand } from '../../src/runners/chaos/consumer-crash.ts';

describe('the chaos consumer child command', () => {
  it('carries its arguments (with the server URL and its password) in the environment, never in argv', () => {
    const url = 'nats://domain_user:s3cret-pw@127.0.0.1:4222';
    const cmd = chaosConsumerCommand({
      backend: 'jetstream',
      url,
      namespace: 'ns',
      category: 'chaos',
      subscription: 'sub',
      historyDir: '/tmp/x',
      originEpochMs: 0,
      handleMs: 1,
      ackWaitMs: 1000,
    });
    expect(cmd.args.join(' ')).not.toContain('s3cret-pw');
    expect(JSON.parse(cmd.env![CONSUMER_CHILD_ARGS_ENV]!).url).toBe(url);
  });
});
