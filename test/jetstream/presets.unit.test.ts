import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { ALL_PRESET, PRESETS, PRESET_NAMES, namespaced, presetsFor } from '../../src/store/jetstream/presets.ts';
import { consumerConfigOf, streamConfigOf } from '../../src/store/jetstream/init.ts';
import { differences } from '../../src/store/jetstream/streams.ts';
import { filtersOverlap } from '../../src/core/subjects.ts';

const DAY_NS = 24 * 60 * 60 * 1e9;

const DOCS_PAGE = 'docs/streams-and-consumers.md';

describe(`JetStream presets as ${DOCS_PAGE} states them`, () => {
  it('DOCUMENT_EVENTS: document.*, 7 days, 100,000 msgs, 1 GB, file, R1', () => {
    const [s] = PRESETS.DOCUMENT_EVENTS!.streams;
    expect(streamConfigOf(s!)).toMatchObject({
      name: 'DOCUMENT_EVENTS',
      subjects: ['document.*'],
      max_age: 7 * DAY_NS,
      max_msgs: 100_000,
      max_bytes: 1024 ** 3,
      storage: 'file',
      num_replicas: 1,
      retention: 'limits',
    });
    expect(PRESETS.DOCUMENT_EVENTS!.consumers[0]).toMatchObject({ durable: 'document-event-consumer', filterSubject: 'document.*' });
  });

  it('FILE_UPLOADS with the file_processor pull consumer (max pending 100, unlimited deliveries)', () => {
    expect(streamConfigOf(PRESETS.FILE_UPLOADS!.streams[0]!)).toMatchObject({ subjects: ['file.uploads'], max_age: 7 * DAY_NS, discard: 'old' });
    expect(consumerConfigOf(PRESETS.FILE_UPLOADS!.consumers[0]!)).toMatchObject({
      durable_name: 'file_processor',
      filter_subject: 'file.uploads',
      ack_policy: 'explicit',
      deliver_policy: 'all',
      max_deliver: -1,
      max_ack_pending: 100,
      ack_wait: 30e9,
      replay_policy: 'instant',
    });
  });

  it('CASES has the four case subjects; BILLING_EVENTS captures billing.>, 1,000,000 msgs, 7 days', () => {
    expect(PRESETS.CASES!.streams.flatMap((s) => s.subjects)).toEqual(['cases.intake', 'cases.analysis', 'cases.decision', 'cases.completed']);
    expect(streamConfigOf(PRESETS.BILLING_EVENTS!.streams[0]!)).toMatchObject({ subjects: ['billing.>'], max_msgs: 1_000_000, max_age: 7 * DAY_NS });
    expect(PRESETS.BILLING_EVENTS!.consumers[0]).toMatchObject({ durable: 'billing-processor', maxDeliver: 5 });
  });

  it('DOMAIN_<ENV>: events file, commands memory, retention 1/7/30 days, prod R3', () => {
    for (const [env, days, replicas] of [['DEV', 1, 1], ['STAGING', 7, 1], ['PROD', 30, 3]] as const) {
      const p = PRESETS[`DOMAIN_${env}`]!;
      const byName = Object.fromEntries(p.streams.map((s) => [s.name, s]));
      expect(byName.DOMAIN_SALES_EVENTS).toMatchObject({ subjects: ['*.domain.sales.>'], storage: 'file', maxAgeMs: days * 86_400_000, replicas });
      expect(byName.DOMAIN_INVENTORY_COMMANDS).toMatchObject({ subjects: ['*.command.inventory.>'], storage: 'memory' });
      expect(byName.PROJECTIONS?.subjects).toEqual(['*.projection.>']);
      expect(byName.SAGAS?.subjects).toEqual(['*.saga.>']);
    }
  });

  it('every stream and consumer names the section of the docs page it follows (init prints it)', () => {
    const headings = readFileSync(new URL(`../../${DOCS_PAGE}`, import.meta.url), 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('## '))
      .map((l) => l.slice(3).replace(/ \(.*\)$/, ''));
    for (const preset of Object.values(PRESETS)) {
      for (const item of [...preset.streams, ...preset.consumers]) {
        const m = /^docs\/streams-and-consumers\.md §(\S+)/.exec(item.source);
        expect(m, `${preset.name}: ${item.source}`).not.toBeNull();
        expect(headings, `${preset.name}: ${item.source}`).toContain(m![1]);
      }
    }
  });

  it('"all" holds presets that can live on one server together: no two streams overlap', () => {
    const streams = presetsFor('all').flatMap((p) => p.streams);
    expect(streams.map((s) => s.name)).toHaveLength(new Set(streams.map((s) => s.name)).size);
    const subjects = streams.flatMap((s) => s.subjects);
    for (let i = 0; i < subjects.length; i++) for (let j = i + 1; j < subjects.length; j++) expect(filtersOverlap(subjects[i]!, subjects[j]!)).toBe(false);
    expect(ALL_PRESET.every((n) => PRESET_NAMES.includes(n))).toBe(true);
  });

  it('a namespace prefixes stream names and subjects; unknown presets are a ConfigError listing the names', () => {
    const p = namespaced(PRESETS.BILLING_EVENTS!, 't_1');
    expect(p.streams[0]).toMatchObject({ name: 'T_1_BILLING_EVENTS', subjects: ['t_1.billing.>'] });
    expect(p.consumers[0]).toMatchObject({ stream: 'T_1_BILLING_EVENTS', filterSubject: 't_1.billing.>' });
    expect(() => presetsFor('NOPE')).toThrow(ConfigError);
    expect(() => presetsFor('NOPE')).toThrow(/DOCUMENT_EVENTS/);
  });

  it('differences() names each differing field and ignores order of subjects', () => {
    expect(differences({ subjects: ['a', 'b'], max_age: 1 }, { subjects: ['b', 'a'], max_age: 1 })).toEqual([]);
    expect(differences({ max_age: 1, num_replicas: 3 }, { max_age: 2, num_replicas: 3 })).toEqual(['max_age: server 2, preset 1']);
  });
});
