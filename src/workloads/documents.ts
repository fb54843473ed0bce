/**
 * The `documents` workload (docs/workloads.md, "Documents"): DMS document events from Paperless-ngx and Alfresco,
 * `document.uploaded | document.updated | document.deleted`, one stream per document
 * (`document-<system>_<id>`), so updates and deletes follow the upload with an expected version.
 *
 * The envelope's `data` is the design's `DocumentEvent` verbatim (camelCase, as docs/workloads.md lists it),
 * with `eventId` equal to the envelope id.
 *
 * Mix and sizes: the /stats example of docs/event-api.md (1200 uploaded, 30 updated, 4 deleted; paperless
 * 800, alfresco 434) gives the type and system mix; file sizes around the design's examples (45,678 B, 78 kB):
 * log-normal with mean 60 kB (assumption, no published figure). Free text (authors) from faker nl.
 */
import { z } from 'zod';
import { formatHex, formatUuid, HEX_CODES, Random, WeightedChoice, weightedRecord } from '../core/random.ts';
import type { NewEvent } from '../core/event-store.ts';
import { isoDate, isoDay, pool, seededFaker, SimClock } from './common.ts';
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

/** The /stats example of docs/event-api.md. */
const TYPE_MIX = { 'document.uploaded': 1200, 'document.updated': 30, 'document.deleted': 4 } as const;
const SYSTEM_MIX = { paperless: 800, alfresco: 434 } as const;
/** Document types and categories named in docs/workloads.md ("Documents"), plus common municipal ones (assumption). */
const DOC_TYPES = ['besluit', 'advies', 'brief', 'notulen', 'rapport', 'memo'] as const;
/** The titles' first words. */
const DOC_TITLES = DOC_TYPES.map((t) => t[0]!.toUpperCase() + t.slice(1));
const CATEGORIES = ['Bouwvergunningen', 'Belastingen', 'Subsidies', 'Evenementen', 'Parkeren', 'Jeugdzorg', 'WOO-verzoeken'] as const;
const TAGS = ['openbaar', 'definitief', 'vergunning', 'urgent', 'concept', 'intern', 'woo', 'archief'] as const;
const DEFINITIEF = TAGS.indexOf('definitief');
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

const CONTENT_TYPE_NAMES = Object.keys(CONTENT_TYPES) as (keyof typeof CONTENT_TYPES)[];
/** Documents open for updates and deletes (when full, a new one replaces slot n mod MAX_LIVE, as LiveSet does). */
const MAX_LIVE = 10_000;
const NO_TAG = 0xf;

/**
 * The live documents as numbers in typed arrays, one slot per document, not objects and strings: ten
 * thousand long-lived document objects survived every young-generation GC, which took a third of the
 * generation time (profiled). An event's `document` object is built from the slot when it is needed.
 * Slot MAX_LIVE holds a document just taken out (deleted).
 */
class LiveDocs {
  count = 0;
  private overwrite = 0;
  readonly system = new Uint8Array(MAX_LIVE + 1);
  /** Paperless: its numeric id; alfresco: unused (the id is the UUID of the four words in `uuid`). */
  readonly serial = new Float64Array(MAX_LIVE + 1);
  readonly uuid = new Uint32Array((MAX_LIVE + 1) * 4);
  readonly docType = new Uint8Array(MAX_LIVE + 1);
  readonly category = new Uint8Array(MAX_LIVE + 1);
  readonly author = new Uint16Array(MAX_LIVE + 1);
  /** Midnight of the document date, ms. */
  readonly day = new Float64Array(MAX_LIVE + 1);
  /** Up to 7 tag indices, 4 bits each, in insertion order, NO_TAG-terminated. */
  readonly tags = new Uint32Array(MAX_LIVE + 1);
  readonly size = new Float64Array(MAX_LIVE + 1);
  readonly contentType = new Uint8Array(MAX_LIVE + 1);
  readonly version = new Int32Array(MAX_LIVE + 1);

  /** A slot for a new document. */
  add(): number {
    return this.count < MAX_LIVE ? this.count++ : this.overwrite++ % MAX_LIVE;
  }
  /** A random live document's slot (stays live), or -1. */
  pick(rng: Random): number {
    return this.count ? Math.floor(rng.next() * this.count) : -1;
  }
  /** Removes a random live document; returns the slot it now sits in (MAX_LIVE), or -1. */
  take(rng: Random): number {
    if (!this.count) return -1;
    const i = Math.floor(rng.next() * this.count);
    this.copy(i, MAX_LIVE);
    this.copy(--this.count, i);
    return MAX_LIVE;
  }
  private copy(from: number, to: number): void {
    this.system[to] = this.system[from]!;
    this.serial[to] = this.serial[from]!;
    this.uuid.copyWithin(to * 4, from * 4, from * 4 + 4);
    this.docType[to] = this.docType[from]!;
    this.category[to] = this.category[from]!;
    this.author[to] = this.author[from]!;
    this.day[to] = this.day[from]!;
    this.tags[to] = this.tags[from]!;
    this.size[to] = this.size[from]!;
    this.contentType[to] = this.contentType[from]!;
    this.version[to] = this.version[from]!;
  }
}

/**
 * `evt-<ms>-<6 hex digits of word>`, the id `\`evt-${ms}-${rng.hex(6)}\`` spells (rng.hex(6) draws one word),
 * made in reused character codes as `isoDate` does: the template, converting a 13-digit number to text,
 * was a seventh of this generator's time (profiled 2026-12-05). Other lengths of `ms` take the template.
 */
const EVENT_ID_CODES = Array.from('evt-0000000000000-000000', (c) => c.charCodeAt(0));
export const documentEventId = (ms: number, word: number): string => {
  if (!(Number.isInteger(ms) && ms >= 1e12 && ms < 1e13)) return `evt-${ms}-${formatHex([word], 0, 6)}`;
  const c = EVENT_ID_CODES;
  // 13 digits: the low 7 and the high 6 as whole numbers below 2^31 (`| 0`), so the codes stay small
  // integers (see `isoDate`).
  const high = Math.floor(ms / 1e7);
  for (let i = 16, n = (ms - high * 1e7) | 0; i >= 10; i--, n = (n / 10) | 0) c[i] = 48 + (n % 10);
  for (let i = 9, n = high | 0; i >= 4; i--, n = (n / 10) | 0) c[i] = 48 + (n % 10);
  for (let i = 18, shift = 28; i < 24; i++, shift -= 4) c[i] = HEX_CODES[(word >>> shift) & 15]!;
  return String.fromCharCode.apply(null, c);
};

const hasTag = (packed: number, tag: number): boolean => {
  for (let p = packed; (p & 0xf) !== NO_TAG; p >>>= 4) if ((p & 0xf) === tag) return true;
  return false;
};
/** Appends a tag index to a packed list (at most 7 tags). */
const withTag = (packed: number, tag: number): number => {
  let shift = 0;
  while (((packed >>> shift) & 0xf) !== NO_TAG) shift += 4;
  return ((packed & ~(0xf << shift)) | (tag << shift) | (NO_TAG << (shift + 4))) >>> 0;
};

export const documentsWorkload: WorkloadModule = {
  name: 'documents',
  description: 'DMS document events (docs/workloads.md): paperless/alfresco uploaded/updated/deleted, ~0.5 kB',
  category: 'document',
  eventTypes: DOCUMENT_EVENT_TYPES,
  create({ seed }) {
    const rng = new Random(seed).fork('documents');
    const faker = seededFaker(seed);
    const authors = pool(200, () => faker.person.fullName());
    const clock = new SimClock(rng, '2025-01-06T08:00:00.000Z', MEAN_GAP_MS);
    const types = weightedRecord(TYPE_MIX);
    // Indices rather than names (same weights in the same order, so the same draws as weightedRecord).
    const systems = new WeightedChoice(DMS_SYSTEMS.map((s, i) => [i, SYSTEM_MIX[s]] as const));
    const contentTypes = new WeightedChoice(CONTENT_TYPE_NAMES.map((c, i) => [i, CONTENT_TYPES[c]] as const));
    const tagCount = new WeightedChoice([[1, 2], [2, 4], [3, 3], [4, 1]] as const);
    const live = new LiveDocs();
    let paperlessId = 1000;
    const simulationId = `sim-${seed}`;

    const documentOf = (k: number): DocumentEvent['document'] => {
      const system = live.system[k]!;
      const u = k * 4;
      const docType = DOC_TYPES[live.docType[k]!]!;
      const category = CATEGORIES[live.category[k]!]!;
      const date = isoDate(live.day[k]!); // midnight: a cached string
      const tags: string[] = [];
      for (let p = live.tags[k]!; (p & 0xf) !== NO_TAG; p >>>= 4) tags.push(TAGS[p & 0xf]!);
      return {
        id: DMS_SYSTEMS[system] === 'paperless' ? String(live.serial[k]) : formatUuid(live.uuid[u]!, live.uuid[u + 1]!, live.uuid[u + 2]!, live.uuid[u + 3]!),
        title: `${DOC_TITLES[live.docType[k]!]!} ${category} ${isoDay(live.day[k]!)}`,
        type: docType,
        category,
        author: authors[live.author[k]!]!,
        date,
        tags,
        size: live.size[k]!,
        contentType: CONTENT_TYPE_NAMES[live.contentType[k]!]!,
      };
    };

    const event = (ms: number, type: (typeof DOCUMENT_EVENT_TYPES)[number], system: DocumentEvent['system'], document: DocumentEvent['document']): NewEvent => {
      const eventId = documentEventId(ms, rng.uint32());
      const data: DocumentEvent = {
        eventId,
        eventType: type,
        timestamp: isoDate(ms),
        system,
        document,
        metadata:
          type === 'document.deleted'
            ? { simulationId, source: 'dms-simulator' }
            : { simulationId, uploadDuration: Math.round(rng.logNormalWithMean(MEAN_UPLOAD_MS, 0.6)), source: 'dms-simulator' },
      };
      return { id: eventId, type, timestamp: data.timestamp, data };
    };

    return {
      next(): PlannedAppend {
        const ms = clock.tick();
        let type = types.sample(rng);
        let k = type === 'document.uploaded' ? -1 : type === 'document.deleted' ? live.take(rng) : live.pick(rng);
        if (k < 0) {
          type = 'document.uploaded';
          k = live.add();
          const system = systems.sample(rng);
          live.system[k] = system;
          live.docType[k] = rng.int(0, DOC_TYPES.length - 1);
          live.category[k] = rng.int(0, CATEGORIES.length - 1);
          live.day[k] = ms - (ms % 86_400_000);
          let tags = NO_TAG;
          const n = tagCount.sample(rng);
          for (let have = 0; have < n; ) {
            const tag = rng.int(0, TAGS.length - 1);
            if (!hasTag(tags, tag)) {
              tags = withTag(tags, tag);
              have++;
            }
          }
          live.tags[k] = tags;
          if (DMS_SYSTEMS[system] === 'paperless') live.serial[k] = paperlessId++;
          else for (let w = 0; w < 4; w++) live.uuid[k * 4 + w] = rng.uint32();
          live.author[k] = rng.int(0, authors.length - 1);
          live.size[k] = Math.round(rng.logNormalWithMean(MEAN_SIZE_BYTES, 1));
          live.contentType[k] = contentTypes.sample(rng);
          live.version[k] = 0;
        } else if (type === 'document.updated') {
          live.size[k] = Math.max(1, Math.round(live.size[k]! * rng.uniform(0.8, 1.3)));
          if (!hasTag(live.tags[k]!, DEFINITIEF)) live.tags[k] = withTag(live.tags[k]!, DEFINITIEF);
        }
        const version = live.version[k]!;
        const expectedVersion = version === 0 ? ('no_stream' as const) : version;
        live.version[k] = version + 1;
        const system = DMS_SYSTEMS[live.system[k]!]!;
        const document = documentOf(k);
        return { stream: `document-${system}_${document.id}`, events: [event(ms, type, system, document)], expectedVersion };
      },
    };
  },
  validate: validatorFor(DOCUMENT_SCHEMAS),
};
