/**
 * The `documents` workload (seed 000): DMS document events from Paperless-ngx and Alfresco,
 * `document.uploaded | document.updated | document.deleted`, one stream per document
 * (`document-<system>_<id>`), so updates and deletes follow the upload with an expected version.
 *
 * The envelope's `data` is the seed's `DocumentEvent` verbatim (camelCase, as in seed 000), with
 * `eventId` equal to the envelope id.
 *
 * Mix and sizes: the seed's /stats example (1200 uploaded, 30 updated, 4 deleted; paperless 800,
 * alfresco 434) gives the type and system mix; file sizes around the seed's examples (45,678 B, 78 kB):
 * log-normal with mean 60 kB (assumption, no published figure). Free text (authors) from faker nl.
 */
import { z } from 'zod';
import { Random, WeightedChoice, weightedRecord } from '../core/random.ts';
import type { NewEvent } from '../core/event-store.ts';
import { isoDate, LiveSet, pool, seededFaker, SimClock } from './common.ts';
import { validatorFor } from './schema.ts';
import type { PlannedAppend, WorkloadModule } from './workload.ts';

export const DOCUMENT_EVENT_TYPES = ['document.uploaded', 'document.updated', 'document.deleted'] as const;
export const DMS_SYSTEMS = ['paperless', 'alfresco'] as const;

export const DocumentEventSchema = z.strictObject({
  eventId: z.string().min(1),
  eventType: z.enum(DOCUMENT_EVENT_TYPES),
  timestamp: z.iso.datetime(),
  system: z.enum(DMS_SYSTEMS),
  document: z.strictObject({
    id: z.string().min(1),
    title: z.string().min(1),
    type: z.string().min(1),
    category: z.string().min(1),
    author: z.string().min(1),
    date: z.iso.datetime(),
    tags: z.array(z.string().min(1)),
    size: z.number().int().nonnegative(),
    contentType: z.string().regex(/^[a-z]+\/[a-z0-9.+-]+$/, 'must be a MIME type'),
  }),
  metadata: z.strictObject({
    simulationId: z.string().optional(),
    uploadDuration: z.number().nonnegative().optional(),
    source: z.string().min(1),
  }),
});
export type DocumentEvent = z.infer<typeof DocumentEventSchema>;

/** One schema for all three types; the type must match `eventType` (checked in validate). */
export const DOCUMENT_SCHEMAS = Object.fromEntries(
  DOCUMENT_EVENT_TYPES.map((t) => [t, DocumentEventSchema.refine((d) => d.eventType === t, { message: `eventType must be ${t}`, path: ['eventType'] })]),
);

/** Seed 000 /stats example. */
const TYPE_MIX = { 'document.uploaded': 1200, 'document.updated': 30, 'document.deleted': 4 } as const;
const SYSTEM_MIX = { paperless: 800, alfresco: 434 } as const;
/** Document types and categories named in seed 000, plus common municipal ones (assumption). */
const DOC_TYPES = ['besluit', 'advies', 'brief', 'notulen', 'rapport', 'memo'] as const;
const CATEGORIES = ['Bouwvergunningen', 'Belastingen', 'Subsidies', 'Evenementen', 'Parkeren', 'Jeugdzorg', 'WOO-verzoeken'] as const;
const TAGS = ['openbaar', 'definitief', 'vergunning', 'urgent', 'concept', 'intern', 'woo', 'archief'] as const;
/** MIME mix: assumption, no published figure (a DMS of a municipality is mostly PDF). */
const CONTENT_TYPES = {
  'application/pdf': 70,
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 15,
  'image/jpeg': 8,
  'image/png': 4,
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 3,
} as const;
const MEAN_SIZE_BYTES = 60_000;
const MEAN_UPLOAD_MS = 1_200;
/** Mean gap between DMS events: assumption, no published figure. */
const MEAN_GAP_MS = 2_000;

interface LiveDoc {
  system: (typeof DMS_SYSTEMS)[number];
  doc: DocumentEvent['document'];
  version: number;
}

const capitalise = (s: string): string => s[0]!.toUpperCase() + s.slice(1);

export const documentsWorkload: WorkloadModule = {
  name: 'documents',
  description: 'DMS document events (seed 000): paperless/alfresco uploaded/updated/deleted, ~0.6 kB',
  category: 'document',
  eventTypes: DOCUMENT_EVENT_TYPES,
  create({ seed }) {
    const rng = new Random(seed).fork('documents');
    const faker = seededFaker(seed);
    const authors = pool(200, () => faker.person.fullName());
    const clock = new SimClock(rng, '2025-01-06T08:00:00.000Z', MEAN_GAP_MS);
    const types = weightedRecord(TYPE_MIX);
    const systems = weightedRecord(SYSTEM_MIX);
    const contentTypes = weightedRecord(CONTENT_TYPES);
    const tagCount = new WeightedChoice([[1, 2], [2, 4], [3, 3], [4, 1]] as const);
    const live = new LiveSet<LiveDoc>();
    let paperlessId = 1000;
    const simulationId = `sim-${seed}`;

    const event = (ms: number, type: (typeof DOCUMENT_EVENT_TYPES)[number], d: LiveDoc): NewEvent => {
      const eventId = `evt-${ms}-${rng.hex(6)}`;
      const data: DocumentEvent = {
        eventId,
        eventType: type,
        timestamp: isoDate(ms),
        system: d.system,
        document: d.doc,
        metadata: {
          simulationId,
          ...(type === 'document.deleted' ? {} : { uploadDuration: Math.round(rng.logNormalWithMean(MEAN_UPLOAD_MS, 0.6)) }),
          source: 'dms-simulator',
        },
      };
      return { id: eventId, type, timestamp: data.timestamp, data };
    };

    return {
      next(): PlannedAppend {
        const ms = clock.tick();
        let type = types.sample(rng);
        let d = type === 'document.uploaded' ? undefined : type === 'document.deleted' ? live.take(rng) : live.pick(rng);
        if (!d) {
          type = 'document.uploaded';
          const system = systems.sample(rng);
          const docType = rng.pick(DOC_TYPES);
          const category = rng.pick(CATEGORIES);
          const date = isoDate(ms - (ms % 86_400_000));
          const tags = new Set<string>();
          const n = tagCount.sample(rng);
          while (tags.size < n) tags.add(rng.pick(TAGS));
          d = {
            system,
            version: 0,
            doc: {
              id: system === 'paperless' ? String(paperlessId++) : rng.uuid(),
              title: `${capitalise(docType)} ${category} ${date.slice(0, 10)}`,
              type: docType,
              category,
              author: rng.pick(authors),
              date,
              tags: [...tags],
              size: Math.round(rng.logNormalWithMean(MEAN_SIZE_BYTES, 1)),
              contentType: contentTypes.sample(rng),
            },
          };
          live.add(d);
        } else if (type === 'document.updated') {
          d.doc = { ...d.doc, size: Math.max(1, Math.round(d.doc.size * rng.uniform(0.8, 1.3))), tags: d.doc.tags.includes('definitief') ? d.doc.tags : [...d.doc.tags, 'definitief'] };
        }
        const expectedVersion = d.version === 0 ? ('no_stream' as const) : d.version;
        d.version++;
        return { stream: `document-${d.system}_${d.doc.id}`, events: [event(ms, type, d)], expectedVersion };
      },
    };
  },
  validate: validatorFor(DOCUMENT_SCHEMAS),
};
