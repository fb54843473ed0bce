import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import {
  MAX_SUBJECT_BYTES,
  algebraFilter,
  checkSubject,
  commandSubject,
  domainEventSubject,
  filtersOverlap,
  parseDomainEventSubject,
  parseTopic,
  projectionSubject,
  sagaSubject,
  snapshotSubject,
  streamSubject,
  subjectMatches,
  topic,
  topicWarnings,
} from '../../src/core/subjects.ts';

describe('subjects: the domain-event algebra (docs/subject-algebra.md §1)', () => {
  it('builds {env}.{category}.{domain}.{aggregate}.{event_type}.{event_id} and its variants', () => {
    const id = '550e8400-e29b-41d4-a716-446655440000';
    expect(domainEventSubject({ env: 'dev', domain: 'sales', aggregate: 'order', eventType: 'created', eventId: id })).toBe(
      `dev.domain.sales.order.created.${id}`,
    );
    expect(commandSubject({ env: 'prod', domain: 'inventory', aggregate: 'product', action: 'update' })).toBe('prod.command.inventory.product.update');
    expect(projectionSubject({ env: 'prod', view: 'order-summary', operation: 'update' })).toBe('prod.projection.order-summary.update');
    expect(sagaSubject({ env: 'staging', process: 'checkout', event: 'started' })).toBe('staging.saga.checkout.started');
    expect(snapshotSubject({ env: 'dev', domain: 'sales', aggregate: 'order', id: '42' })).toBe('dev.snapshot.sales.order.42');
    expect(parseDomainEventSubject(`dev.domain.sales.order.created.${id}`)).toEqual({
      env: 'dev',
      domain: 'sales',
      aggregate: 'order',
      eventType: 'created',
      eventId: id,
    });
  });

  it('gives the seed stream filters and matches subjects against them', () => {
    expect(algebraFilter('domain', 'sales')).toBe('*.domain.sales.>');
    expect(algebraFilter('projection')).toBe('*.projection.>');
    expect(subjectMatches('*.domain.sales.>', 'dev.domain.sales.order.created.1')).toBe(true);
    expect(subjectMatches('*.domain.sales.>', 'dev.domain.inventory.order.created.1')).toBe(false);
    expect(subjectMatches('*.domain.sales.>', 'dev.domain.sales')).toBe(false);
    expect(subjectMatches('document.*', 'document.uploaded')).toBe(true);
    expect(subjectMatches('document.*', 'document.uploaded.x')).toBe(false);
  });

  it('rejects bad environments, tokens, wildcards in publish subjects, and over-long subjects with ConfigError', () => {
    expect(() => domainEventSubject({ env: 'test', domain: 'sales', aggregate: 'o', eventType: 'c', eventId: '1' })).toThrow(/environment/);
    expect(() => domainEventSubject({ env: 'dev', domain: 'sa.les', aggregate: 'o', eventType: 'c', eventId: '1' })).toThrow(ConfigError);
    expect(() => domainEventSubject({ env: 'dev', domain: 'sales', aggregate: '*', eventType: 'c', eventId: '1' })).toThrow(ConfigError);
    expect(() => domainEventSubject({ env: 'dev', domain: 'sales', aggregate: 'o', eventType: 'c', eventId: '' })).toThrow(/empty/);
    expect(() => domainEventSubject({ env: 'dev', domain: 'sales', aggregate: 'o', eventType: 'has space', eventId: '1' })).toThrow(ConfigError);
    expect(() => checkSubject('a.>.b', { wildcards: true })).toThrow(/last token/);
    expect(() => checkSubject('a.*')).toThrow(/wildcard/);
    expect(() => checkSubject('a..b')).toThrow(/empty/);
    expect(checkSubject('a.*.>', { wildcards: true })).toBe('a.*.>');
    expect(() => streamSubject('ns', 'case', 'x'.repeat(MAX_SUBJECT_BYTES))).toThrow(/bytes/);
  });

  it('detects overlapping stream filters the way the server does', () => {
    expect(filtersOverlap('*.domain.sales.>', 'dev.domain.>')).toBe(true);
    expect(filtersOverlap('document.*', 'document.uploaded')).toBe(true);
    expect(filtersOverlap('document.*', 'file.uploads')).toBe(false);
    expect(filtersOverlap('billing.>', 'billing')).toBe(false);
    expect(filtersOverlap('a.*', 'a.b.c')).toBe(false);
    expect(filtersOverlap('a.>', 'a.b.c')).toBe(true);
  });
});

describe('subjects: billing topics (docs/subject-algebra.md §2)', () => {
  it('accepts <context>.<aggregate>.<event> in lower case', () => {
    expect(topic('billing', 'invoice', 'issued')).toBe('billing.invoice.issued');
    expect(parseTopic('contacts.import.completed')).toEqual({ context: 'contacts', aggregate: 'import', event: 'completed' });
  });

  it('rejects upper case, wrong token counts and wildcards', () => {
    expect(() => topic('Billing', 'invoice', 'issued')).toThrow(/lower-case/);
    expect(() => parseTopic('billing.invoice')).toThrow(/context/);
    expect(() => parseTopic('billing.invoice.issued.extra')).toThrow(ConfigError);
    expect(() => parseTopic('billing.*.issued')).toThrow(ConfigError);
  });

  it('warns (never fails) on present tense and generic CRUD events', () => {
    expect(topicWarnings('billing.invoice.issued')).toEqual([]);
    expect(topicWarnings('billing.invoice.paid')).toEqual([]);
    expect(topicWarnings('billing.invoice.issue')).toHaveLength(1);
    expect(topicWarnings('contacts.contact.created').join()).toMatch(/CRUD/);
  });
});
