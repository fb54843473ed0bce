/**
 * The `file-uploads` workload (docs/workloads.md, "File uploads"): `FileUploadEvent` after an encrypted
 * upload to S3, snake_case exactly as the design's message format, one stream per file (`upload-<file_uuid>`).
 * The design publishes to the subject `file.uploads`; the event type here is `file.uploaded` (the envelope
 * names what happened).
 *
 * Sizes: ~0.4 kB of JSON (the design's example message is 379 B; docs/workloads.md has the measured
 * mean). Users: a faker nl pool of 500 e-mail addresses; an upload rate of one per 5 s on average:
 * assumption, no published figure.
 */
import { z } from 'zod';
import { Random } from '../core/random.ts';
import { isoDate, pool, seededFaker, SimClock } from './common.ts';
import { validatorFor } from './schema.ts';
import type { WorkloadModule } from './workload.ts';

export const FILE_UPLOAD_TYPE = 'file.uploaded';

export const FileUploadEventSchema = z.strictObject({
  event_id: z.uuid(),
  email: z.email(),
  file_uuid: z.uuid(),
  s3_data_key: z.string().regex(/^uploads\/[^/]+\/[0-9a-f-]{36}\/.+\.enc$/, 'must be uploads/<email>/<file_uuid>/<name>.enc'),
  s3_metadata_key: z.string().regex(/^uploads\/[^/]+\/[0-9a-f-]{36}\/metadata\.json$/, 'must be uploads/<email>/<file_uuid>/metadata.json'),
  bucket_name: z.string().min(3).max(63),
  /** Unix time in milliseconds (a Long in the design's message format). */
  timestamp: z.number().int().positive(),
});
export type FileUploadEvent = z.infer<typeof FileUploadEventSchema>;
export const FILE_UPLOAD_SCHEMAS = { [FILE_UPLOAD_TYPE]: FileUploadEventSchema };

/** The design's service transcribes audio ("whispers"): audio extensions, assumption for the mix. */
const EXTENSIONS = ['mp3', 'm4a', 'wav', 'ogg', 'mp4'] as const;

export const fileUploadsWorkload: WorkloadModule = {
  name: 'file-uploads',
  description: 'Encrypted S3 file-upload events (docs/workloads.md FileUploadEvent, snake_case), ~0.4 kB',
  category: 'upload',
  eventTypes: [FILE_UPLOAD_TYPE],
  create({ seed }) {
    const rng = new Random(seed).fork('file-uploads');
    const faker = seededFaker(seed + 1);
    const emails = pool(500, () => faker.internet.email().toLowerCase());
    const names = pool(300, () => faker.system.fileName({ extensionCount: 0 }).replace(/[^A-Za-z0-9_-]+/g, '_'));
    const clock = new SimClock(rng, '2025-01-06T08:00:00.000Z', 5_000);
    return {
      next() {
        const ms = clock.tick();
        const email = rng.pick(emails);
        const fileUuid = rng.uuid();
        const eventId = rng.uuid();
        const prefix = `uploads/${email}/${fileUuid}/`;
        const data: FileUploadEvent = {
          event_id: eventId,
          email,
          file_uuid: fileUuid,
          s3_data_key: `${prefix}${rng.pick(names)}.${rng.pick(EXTENSIONS)}.enc`,
          s3_metadata_key: `${prefix}metadata.json`,
          bucket_name: 'whispers-bucket-dev',
          timestamp: ms,
        };
        return {
          stream: `upload-${fileUuid}`,
          events: [{ id: eventId, type: FILE_UPLOAD_TYPE, timestamp: isoDate(ms), data }],
          expectedVersion: 'no_stream',
        };
      },
    };
  },
  validate: validatorFor(FILE_UPLOAD_SCHEMAS),
};
