/**
 * How the event store maps onto JetStream (see README.md in this folder):
 *
 *   contract stream `<category>-<id>`  ->  subject `<ns>.<category>.<id>`
 *   one JetStream stream per category  ->  `<ns>-<category>` capturing `<ns>.<category>.*`
 *   dead letters (all subscriptions)   ->  JetStream stream `<ns>-_deadletters`, subject `<ns>._dlq.<subscription>`
 *
 * `-` separates namespace and category in stream names because neither may contain it (both are
 * `[A-Za-z0-9_]`), so two (namespace, category) pairs never share a stream name; a category starts with a
 * letter, so `_dlq` / `_deadletters` can never collide with one. Case is kept: categories are
 * case-sensitive in the contract.
 */
import { ConfigError } from '../../core/event-store.ts';
import { categoryFilter, streamSubject, subjectOf, subjectToken } from '../../core/subjects.ts';

export const DEFAULT_NAMESPACE = 'eventbench';
const NAMESPACE_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,47}$/;

export interface JetStreamNames {
  namespace: string;
  categoryStream(category: string): string;
  categoryFilter(category: string): string;
  subject(category: string, id: string): string;
  /** `<category>-<id>` of a subject of this namespace, or undefined for a foreign subject. */
  streamOfSubject(subject: string): string | undefined;
  deadLetterStream: string;
  deadLetterFilter: string;
  deadLetterSubject(subscription: string): string;
}

export function jetStreamNames(namespace: string = DEFAULT_NAMESPACE): JetStreamNames {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new ConfigError(
      `invalid namespace ${JSON.stringify(namespace)}: letters, digits and "_", starting with a letter, at most 48`,
    );
  }
  const prefix = `${namespace}.`;
  return {
    namespace,
    categoryStream: (category) => `${namespace}-${subjectToken(category, 'category')}`,
    categoryFilter: (category) => categoryFilter(namespace, category),
    subject: (category, id) => streamSubject(namespace, category, id),
    streamOfSubject(subject) {
      if (!subject.startsWith(prefix)) return undefined;
      const rest = subject.slice(prefix.length);
      const dot = rest.indexOf('.');
      if (dot <= 0 || rest.indexOf('.', dot + 1) !== -1) return undefined;
      return `${rest.slice(0, dot)}-${rest.slice(dot + 1)}`;
    },
    deadLetterStream: `${namespace}-_deadletters`,
    deadLetterFilter: `${namespace}._dlq.*`,
    deadLetterSubject: (subscription) => subjectOf(namespace, '_dlq', subscription),
  };
}
