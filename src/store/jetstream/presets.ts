/**
 * JetStream stream and consumer presets, as the design documents configure them: the requirements and
 * departures are in docs/streams-and-consumers.md, one section per preset, and every stream's and
 * consumer's `source` names its section (`init` prints it). `eventbench init --backend jetstream --preset
 * NAME` creates them (see init.ts); a preset is data, nothing here talks to a server.
 *
 * With a namespace (tests, parallel runs) stream names get `<NS>_` in front and subjects `<ns>.`, so a
 * preset can be created many times on one server; without one they are exactly the designs' names.
 */
import { ConfigError } from '../../core/event-store.ts';
import { algebraFilter, checkSubject, subjectToken } from '../../core/subjects.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface StreamPreset {
  name: string;
  subjects: string[];
  storage: 'file' | 'memory';
  retention: 'limits' | 'interest' | 'workqueue';
  maxAgeMs: number;
  maxMsgs: number;
  maxBytes: number;
  replicas: number;
  discard: 'old' | 'new';
  /** Where the numbers come from: `docs/streams-and-consumers.md §<section>`, printed by `init`. */
  source: string;
}

export interface ConsumerPreset {
  stream: string;
  durable: string;
  filterSubject: string;
  ackPolicy: 'explicit';
  deliverPolicy: 'all' | 'new';
  /** -1 = unlimited. */
  maxDeliver: number;
  ackWaitMs: number;
  maxAckPending: number;
  replayPolicy: 'instant';
  source: string;
}

export interface Preset {
  name: string;
  description: string;
  streams: StreamPreset[];
  consumers: ConsumerPreset[];
}

const stream = (p: Partial<StreamPreset> & Pick<StreamPreset, 'name' | 'subjects' | 'source'>): StreamPreset => ({
  storage: 'file',
  retention: 'limits',
  maxAgeMs: 0,
  maxMsgs: -1,
  maxBytes: -1,
  replicas: 1,
  discard: 'old',
  ...p,
});

/** nats-server's defaults for what a design leaves out (ack wait 30 s, max ack pending 1000). */
const consumer = (p: Partial<ConsumerPreset> & Pick<ConsumerPreset, 'stream' | 'durable' | 'filterSubject' | 'source'>): ConsumerPreset => ({
  ackPolicy: 'explicit',
  deliverPolicy: 'all',
  maxDeliver: -1,
  ackWaitMs: 30_000,
  maxAckPending: 1000,
  replayPolicy: 'instant',
  ...p,
});

const DOCS = 'docs/streams-and-consumers.md';

/** The domains the domain-event design creates streams for (docs/streams-and-consumers.md §DOMAIN_<X>). */
export const ALGEBRA_DOMAINS = ['sales', 'inventory', 'customer'] as const;

/** Retention and replication per environment (docs/streams-and-consumers.md §DOMAIN_<X>, "Per environment"). */
export const ENVIRONMENT_PROFILES = {
  dev: { maxAgeMs: 1 * DAY_MS, replicas: 1 },
  staging: { maxAgeMs: 7 * DAY_MS, replicas: 1 },
  prod: { maxAgeMs: 30 * DAY_MS, replicas: 3 },
} as const;

function domainPreset(env: keyof typeof ENVIRONMENT_PROFILES): Preset {
  const { maxAgeMs, replicas } = ENVIRONMENT_PROFILES[env];
  const src = `${DOCS} §DOMAIN_<X> (${env}: ${maxAgeMs / DAY_MS} day(s), R${replicas})`;
  return {
    name: `DOMAIN_${env.toUpperCase()}`,
    description: `domain events (subject algebra), ${env} environment: DOMAIN_<X>_EVENTS (file), DOMAIN_<X>_COMMANDS (memory), PROJECTIONS, SAGAS`,
    streams: [
      ...ALGEBRA_DOMAINS.map((d) =>
        stream({ name: `DOMAIN_${d.toUpperCase()}_EVENTS`, subjects: [algebraFilter('domain', d)], storage: 'file', maxAgeMs, replicas, source: src }),
      ),
      // Commands are ephemeral, so memory storage; one command stream per domain (the design lists only
      // sales and inventory, but says "one per domain": a departure the docs page records).
      ...ALGEBRA_DOMAINS.map((d) =>
        stream({ name: `DOMAIN_${d.toUpperCase()}_COMMANDS`, subjects: [algebraFilter('command', d)], storage: 'memory', maxAgeMs, replicas, source: src }),
      ),
      stream({ name: 'PROJECTIONS', subjects: [algebraFilter('projection')], maxAgeMs, replicas, source: src }),
      stream({ name: 'SAGAS', subjects: [algebraFilter('saga')], maxAgeMs, replicas, source: src }),
    ],
    consumers: [],
  };
}

/** Every preset by name: the one source of truth (CLI help and validation derive from it). */
export const PRESETS: Record<string, Preset> = Object.fromEntries(
  [
    {
      name: 'DOCUMENT_EVENTS',
      description: 'document management events: document.*, 7 days / 100,000 msgs / 1 GB, file',
      streams: [
        stream({
          name: 'DOCUMENT_EVENTS',
          subjects: ['document.*'],
          maxAgeMs: 7 * DAY_MS,
          maxMsgs: 100_000,
          maxBytes: 1024 * 1024 * 1024,
          source: `${DOCS} §DOCUMENT_EVENTS`,
        }),
      ],
      consumers: [
        consumer({ stream: 'DOCUMENT_EVENTS', durable: 'document-event-consumer', filterSubject: 'document.*', source: `${DOCS} §DOCUMENT_EVENTS` }),
      ],
    },
    {
      name: 'FILE_UPLOADS',
      description: 'file upload events: file.uploads, 7 days (168 h), file, discard old; pull consumer file_processor (max pending 100)',
      streams: [
        stream({ name: 'FILE_UPLOADS', subjects: ['file.uploads'], maxAgeMs: 7 * DAY_MS, discard: 'old', source: `${DOCS} §FILE_UPLOADS` }),
      ],
      consumers: [
        // `nats consumer add ... --max-deliver=-1 --max-pending=100 --wait=30s`: natscli's --wait is the ack wait.
        consumer({
          stream: 'FILE_UPLOADS',
          durable: 'file_processor',
          filterSubject: 'file.uploads',
          maxDeliver: -1,
          maxAckPending: 100,
          ackWaitMs: 30_000,
          source: `${DOCS} §FILE_UPLOADS`,
        }),
      ],
    },
    {
      name: 'CASES',
      description:
        'case processing: cases.intake / cases.analysis / cases.decision / cases.completed, one JetStream stream each, with the processors as pull consumers',
      // The case design names the subjects and the processors but no limits: file storage, limits retention, nothing expires.
      streams: (['intake', 'analysis', 'decision', 'completed'] as const).map((s) =>
        stream({ name: `CASES_${s.toUpperCase()}`, subjects: [`cases.${s}`], source: `${DOCS} §CASES (no limits given)` }),
      ),
      consumers: (
        [
          ['intake', 'IntakeProcessor'],
          ['analysis', 'AnalysisProcessor'],
          ['decision', 'DecisionProcessor'],
        ] as const
      ).map(([s, durable]) =>
        consumer({ stream: `CASES_${s.toUpperCase()}`, durable, filterSubject: `cases.${s}`, maxDeliver: 5, source: `${DOCS} §CASES` }),
      ),
    },
    domainPreset('dev'),
    domainPreset('staging'),
    domainPreset('prod'),
    {
      name: 'BILLING_EVENTS',
      description: 'billing events: billing.> topics, 1,000,000 msgs, 7 days; consumer billing-processor (max deliver 5, ack wait 30 s)',
      streams: [
        stream({ name: 'BILLING_EVENTS', subjects: ['billing.>'], maxMsgs: 1_000_000, maxAgeMs: 7 * DAY_MS, source: `${DOCS} §BILLING_EVENTS` }),
      ],
      consumers: [
        consumer({ stream: 'BILLING_EVENTS', durable: 'billing-processor', filterSubject: 'billing.>', maxDeliver: 5, ackWaitMs: 30_000, source: `${DOCS} §BILLING_EVENTS` }),
      ],
    },
  ].map((p) => [p.name, p]),
);

export const PRESET_NAMES = Object.keys(PRESETS);
/**
 * `all`: the presets one server can hold together (docs/streams-and-consumers.md §DOMAIN_<X>). The
 * DOMAIN_* presets are left out: their filters start with a wildcard environment token
 * (`*.domain.sales.>`), which overlaps BILLING_EVENTS' `billing.>` (`billing.domain.sales.x` matches both),
 * and JetStream refuses overlapping streams (error 10065). The three DOMAIN_* environments also share
 * stream names, so a server holds one of them.
 */
export const ALL_PRESET = ['DOCUMENT_EVENTS', 'FILE_UPLOADS', 'CASES', 'BILLING_EVENTS'];

export function presetsFor(name: string): Preset[] {
  if (name === 'all') return ALL_PRESET.map((n) => PRESETS[n]!);
  const preset = PRESETS[name] ?? PRESETS[name.toUpperCase()];
  if (!preset) throw new ConfigError(`unknown JetStream preset ${JSON.stringify(name)}: one of ${[...PRESET_NAMES, 'all'].join(', ')}`);
  return [preset];
}

/** The preset with stream names and subjects moved under a namespace (undefined = the designs' own names). */
export function namespaced(preset: Preset, namespace: string | undefined): Preset {
  if (namespace === undefined) return preset;
  subjectToken(namespace, 'namespace');
  const ns = (n: string) => `${namespace.toUpperCase()}_${n}`;
  const subj = (s: string) => checkSubject(`${namespace}.${s}`, { wildcards: true });
  return {
    ...preset,
    streams: preset.streams.map((s) => ({ ...s, name: ns(s.name), subjects: s.subjects.map(subj) })),
    consumers: preset.consumers.map((c) => ({ ...c, stream: ns(c.stream), filterSubject: subj(c.filterSubject) })),
  };
}
