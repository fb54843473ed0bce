/**
 * NATS subject naming: one validated builder for every subject eventbench publishes or filters on.
 * Core module: no driver imports; the JetStream adapter, the presets and the workloads all build their
 * subjects here so that a bad token fails with a ConfigError naming it, before anything reaches a server.
 *
 * Three schemes, each a requirement stated in docs/subject-algebra.md:
 * - the event store mapping: `<namespace>.<category>.<id>` (one subject per aggregate stream `<category>-<id>`, §3);
 * - the domain-event subject algebra `{env}.{category}.{domain}.{aggregate}.{event_type}.{event_id}` with
 *   its command / projection / saga / snapshot variants (§1);
 * - the topics of the billing design, `<bounded-context>.<aggregate>.<event-type>` (lower-case,
 *   dot-separated, past tense, §2).
 */
import { ConfigError } from './event-store.ts';

/**
 * NATS has no hard subject limit below `max_control_line` (4 KB on the PUB line, which also carries the
 * reply subject and sizes), but every token costs memory in the server's subject index; 255 bytes keeps a
 * subject far from that limit. A number chosen, not measured.
 */
export const MAX_SUBJECT_BYTES = 255;

/** A literal token: no dots, no wildcards, no whitespace; letters, digits, `_` and `-` (also valid stream/durable names). */
export const SUBJECT_TOKEN_PATTERN = /^[A-Za-z0-9_-]+$/;

/** Topics are lower case (docs/subject-algebra.md §2); we also allow digits and `-` / `_` inside a word. */
export const TOPIC_TOKEN_PATTERN = /^[a-z][a-z0-9_-]*$/;

export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The algebra's categories, its second token (docs/subject-algebra.md §1). */
export const SUBJECT_CATEGORIES = ['domain', 'command', 'projection', 'saga', 'snapshot'] as const;
export type SubjectCategory = (typeof SUBJECT_CATEGORIES)[number];

/** Checks one literal token and returns it; `field` names it in the error. */
export function subjectToken(token: string, field: string): string {
  if (typeof token !== 'string' || token.length === 0) {
    throw new ConfigError(`subject token ${field} is empty`);
  }
  if (!SUBJECT_TOKEN_PATTERN.test(token)) {
    throw new ConfigError(
      `subject token ${field} = ${JSON.stringify(token)} is invalid: use letters, digits, "_" and "-" (no ".", "*", ">" or spaces)`,
    );
  }
  return token;
}

/**
 * Validates a whole subject. Literal subjects (publish targets) have no wildcards; filters may use `*`
 * as a whole token and `>` as the whole last token.
 */
export function checkSubject(subject: string, options: { wildcards?: boolean } = {}): string {
  if (typeof subject !== 'string' || subject.length === 0) throw new ConfigError('subject is empty');
  const bytes = Buffer.byteLength(subject);
  if (bytes > MAX_SUBJECT_BYTES) {
    throw new ConfigError(`subject ${JSON.stringify(subject.slice(0, 40))}... is ${bytes} bytes, over ${MAX_SUBJECT_BYTES}`);
  }
  const tokens = subject.split('.');
  tokens.forEach((token, i) => {
    if (token === '*' || token === '>') {
      if (!options.wildcards) {
        throw new ConfigError(`subject ${JSON.stringify(subject)}: wildcard "${token}" not allowed in a publish subject`);
      }
      if (token === '>' && i !== tokens.length - 1) {
        throw new ConfigError(`subject ${JSON.stringify(subject)}: ">" must be the last token`);
      }
      return;
    }
    subjectToken(token, `${i + 1} of ${JSON.stringify(subject)}`);
  });
  return subject;
}

/** Joins literal tokens into a validated subject. */
export function subjectOf(...tokens: string[]): string {
  tokens.forEach((t, i) => subjectToken(t, `#${i + 1}`));
  return checkSubject(tokens.join('.'));
}

/** True when `subject` (literal) matches `filter` (may contain `*` and a final `>`). */
export function subjectMatches(filter: string, subject: string): boolean {
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '>') return s.length > i;
    if (i >= s.length) return false;
    if (f[i] !== '*' && f[i] !== s[i]) return false;
  }
  return f.length === s.length;
}

/**
 * True when some literal subject matches both filters (the overlap check a server runs when two streams
 * would capture the same subjects).
 */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '>') return q !== undefined;
    if (q === '>') return p !== undefined;
    if (p === undefined || q === undefined) return p === undefined && q === undefined;
    if (p !== '*' && q !== '*' && p !== q) return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// The event store mapping: `<namespace>.<category>.<id>`
// ---------------------------------------------------------------------------------------------------

/** Subject of one aggregate stream `<category>-<id>` under a namespace. */
export function streamSubject(namespace: string, category: string, id: string): string {
  return subjectOf(namespace, category, id);
}

/** Filter covering every aggregate stream of a category. */
export function categoryFilter(namespace: string, category: string): string {
  return checkSubject(`${subjectToken(namespace, 'namespace')}.${subjectToken(category, 'category')}.*`, { wildcards: true });
}

// ---------------------------------------------------------------------------------------------------
// The subject algebra `{env}.{category}.{domain}.{aggregate}.{event_type}.{event_id}` and its variants
// (docs/subject-algebra.md §1)
// ---------------------------------------------------------------------------------------------------

function checkEnv(env: string): Environment {
  if (!(ENVIRONMENTS as readonly string[]).includes(env)) {
    throw new ConfigError(`environment ${JSON.stringify(env)} is not one of ${ENVIRONMENTS.join(', ')} (docs/subject-algebra.md §1)`);
  }
  return env as Environment;
}

/** `{env}.domain.{domain}.{aggregate}.{event}.{id}`: a persisted domain event. */
export function domainEventSubject(p: { env: string; domain: string; aggregate: string; eventType: string; eventId: string }): string {
  return subjectOf(checkEnv(p.env), 'domain', p.domain, p.aggregate, p.eventType, p.eventId);
}

/** `{env}.command.{domain}.{aggregate}.{action}`: a command (ephemeral, memory storage). */
export function commandSubject(p: { env: string; domain: string; aggregate: string; action: string }): string {
  return subjectOf(checkEnv(p.env), 'command', p.domain, p.aggregate, p.action);
}

/** `{env}.projection.{view}.{operation}`: a read-model update. */
export function projectionSubject(p: { env: string; view: string; operation: string }): string {
  return subjectOf(checkEnv(p.env), 'projection', p.view, p.operation);
}

/** `{env}.saga.{process}.{event}`: a step of a saga / workflow. */
export function sagaSubject(p: { env: string; process: string; event: string }): string {
  return subjectOf(checkEnv(p.env), 'saga', p.process, p.event);
}

/** `{env}.snapshot.{domain}.{aggregate}.{id}`: an aggregate snapshot. */
export function snapshotSubject(p: { env: string; domain: string; aggregate: string; id: string }): string {
  return subjectOf(checkEnv(p.env), 'snapshot', p.domain, p.aggregate, p.id);
}

/** The algebra's stream filter for one category and optional domain, every environment: `*.domain.sales.>`. */
export function algebraFilter(category: SubjectCategory, domain?: string): string {
  if (!(SUBJECT_CATEGORIES as readonly string[]).includes(category)) {
    throw new ConfigError(`subject category ${JSON.stringify(category)} is not one of ${SUBJECT_CATEGORIES.join(', ')}`);
  }
  return checkSubject(domain === undefined ? `*.${category}.>` : `*.${category}.${subjectToken(domain, 'domain')}.>`, {
    wildcards: true,
  });
}

/** Parses an algebra domain-event subject back into its parts (or throws ConfigError). */
export function parseDomainEventSubject(subject: string): {
  env: Environment;
  domain: string;
  aggregate: string;
  eventType: string;
  eventId: string;
} {
  checkSubject(subject);
  const t = subject.split('.');
  if (t.length !== 6 || t[1] !== 'domain') {
    throw new ConfigError(`subject ${JSON.stringify(subject)} is not {env}.domain.{domain}.{aggregate}.{event_type}.{event_id}`);
  }
  return { env: checkEnv(t[0]!), domain: t[2]!, aggregate: t[3]!, eventType: t[4]!, eventId: t[5]! };
}

// ---------------------------------------------------------------------------------------------------
// Topics of the billing design: `<bounded-context>.<aggregate>.<event-type>` (docs/subject-algebra.md §2)
// ---------------------------------------------------------------------------------------------------

/**
 * Topics name past-tense business events (`issued`, `paid`, `registered`). English irregular past forms
 * that do not end in "-ed" and that the examples of the design or common domains use; anything else
 * must end in "-ed". A heuristic, reported as a warning, never an error.
 */
const IRREGULAR_PAST = new Set(['sent', 'paid', 'built', 'made', 'sold', 'held', 'run', 'done', 'begun', 'written', 'set', 'lost', 'found', 'split', 'bought', 'drawn', 'won', 'shut']);

/** The generic CRUD events a topic should avoid in favour of a business event. */
const CRUD_EVENTS = new Set(['created', 'updated', 'deleted']);

/** Validates a topic (hard rules: lower case, exactly three dot-separated words) and returns it. */
export function topic(context: string, aggregate: string, event: string): string {
  const parts = { context, aggregate, event };
  for (const [field, value] of Object.entries(parts)) {
    if (typeof value !== 'string' || !TOPIC_TOKEN_PATTERN.test(value)) {
      throw new ConfigError(`topic ${field} ${JSON.stringify(value)} must be one lower-case word, as in "billing.invoice.issued"`);
    }
  }
  return checkSubject(`${context}.${aggregate}.${event}`);
}

/** Parses and validates a topic string. */
export function parseTopic(text: string): { context: string; aggregate: string; event: string } {
  const t = typeof text === 'string' ? text.split('.') : [];
  if (t.length !== 3) throw new ConfigError(`topic ${JSON.stringify(text)} must be <context>.<aggregate>.<event>, as in "billing.invoice.issued"`);
  topic(t[0]!, t[1]!, t[2]!);
  return { context: t[0]!, aggregate: t[1]!, event: t[2]! };
}

/** The topics' soft rules (past tense, business events over CRUD): warnings for a report, never errors. */
export function topicWarnings(text: string): string[] {
  const { event } = parseTopic(text);
  const warnings: string[] = [];
  if (!event.endsWith('ed') && !IRREGULAR_PAST.has(event)) {
    warnings.push(`event "${event}" does not look past tense (as created, issued, paid)`);
  }
  if (CRUD_EVENTS.has(event)) warnings.push(`event "${event}" is a generic CRUD event; prefer the business event (docs/subject-algebra.md §2)`);
  return warnings;
}
