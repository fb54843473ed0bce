/**
 * Where the hybrid topology's events live in JetStream: one stream per namespace, `<ns>-_outbox`, capturing
 * `<ns>._outbox.<category>.<id>`, so a subscription without a category sees every category in relay order
 * (the store's `globalOrder`). `_outbox` starts with `_`, which no category can, so these names never meet
 * the jetstream backend's `<ns>-<category>` streams or the dead-letter stream of the same namespace.
 */
import { subjectOf } from '../../core/subjects.ts';

/** The subject token under the namespace that holds relayed events. */
const ROOT = '_outbox';

export interface HybridNames {
  namespace: string;
  /** The JetStream stream holding every relayed event of the namespace. */
  jsStream: string;
  /** Its subjects: `<ns>._outbox.>`. */
  allFilter: string;
  categoryFilter(category: string): string;
  subject(category: string, id: string): string;
  /** `<category>-<id>` of a relayed event's subject, or undefined for another subject. */
  streamOfSubject(subject: string): string | undefined;
}

export function hybridNames(namespace: string): HybridNames {
  const prefix = `${namespace}.${ROOT}.`;
  return {
    namespace,
    jsStream: `${namespace}-${ROOT}`,
    allFilter: `${namespace}.${ROOT}.>`,
    categoryFilter: (category) => `${subjectOf(namespace, ROOT, category)}.*`,
    subject: (category, id) => subjectOf(namespace, ROOT, category, id),
    streamOfSubject(subject) {
      if (!subject.startsWith(prefix)) return undefined;
      const rest = subject.slice(prefix.length);
      const dot = rest.indexOf('.');
      if (dot <= 0 || rest.indexOf('.', dot + 1) !== -1) return undefined;
      return `${rest.slice(0, dot)}-${rest.slice(dot + 1)}`;
    },
  };
}
