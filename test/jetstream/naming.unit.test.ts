import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { jetStreamNames } from '../../src/store/jetstream/naming.ts';
import { parseJetStreamSettings } from '../../src/store/jetstream/settings.ts';
import { parseServerVersion, serverAtLeast } from '../../src/store/jetstream/connection.ts';

describe('JetStream naming', () => {
  it('maps <category>-<id> to <ns>.<category>.<id> in stream <ns>-<category>, and back', () => {
    const n = jetStreamNames('t_1');
    expect(n.subject('case', 'a-b_c')).toBe('t_1.case.a-b_c');
    expect(n.categoryStream('case')).toBe('t_1-case');
    expect(n.categoryFilter('case')).toBe('t_1.case.*');
    expect(n.streamOfSubject('t_1.case.a-b_c')).toBe('case-a-b_c');
    expect(n.streamOfSubject('other.case.x')).toBeUndefined();
    expect(n.streamOfSubject('t_1._dlq.x.y')).toBeUndefined();
    expect(n.deadLetterSubject('proc')).toBe('t_1._dlq.proc');
    expect(n.deadLetterStream).toBe('t_1-_deadletters');
    // Namespace and category cannot both contain "-": (a_b, c) and (a, b_c) get different streams.
    expect(jetStreamNames('a_b').categoryStream('c')).not.toBe(jetStreamNames('a').categoryStream('b_c'));
  });

  it('rejects namespaces that are not one subject token and bad settings with ConfigError', () => {
    for (const bad of ['', 'a.b', 'a b', '1abc', 'a-b', 'x'.repeat(49)]) expect(() => jetStreamNames(bad), bad).toThrow(ConfigError);
    expect(() => parseJetStreamSettings({ duplicateWindowMs: 'soon' })).toThrow(/duplicateWindowMs/);
    expect(parseJetStreamSettings(undefined)).toMatchObject({ duplicateWindowMs: 120_000, storage: 'file', replicas: 1, atomicBatch: true });
  });

  it('server version switch: atomic batch publish from 2.12 on', () => {
    expect(parseServerVersion('2.9.10')).toEqual([2, 9, 10]);
    expect(serverAtLeast('2.9.10', 2, 12)).toBe(false);
    expect(serverAtLeast('2.11.9', 2, 12)).toBe(false);
    expect(serverAtLeast('2.12.0', 2, 12)).toBe(true);
    expect(serverAtLeast('v3.0.0', 2, 12)).toBe(true);
    expect(serverAtLeast(undefined, 2, 12)).toBe(false);
  });
});
