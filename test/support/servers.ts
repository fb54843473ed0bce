/**
 * Server URLs for int/e2e tests, provided once by test/global-setup.ts (managed throwaway servers, or
 * PG_URL / NATS_URL when set). Tests isolate themselves with `uniqueName()`.
 */
import { inject } from 'vitest';
import { randomBytes } from 'node:crypto';

declare module 'vitest' {
  export interface ProvidedContext {
    pgUrl: string;
    natsUrl: string;
  }
}

export function testPgUrl(): string {
  return inject('pgUrl');
}

export function testNatsUrl(): string {
  return inject('natsUrl');
}

/** A name no other test uses: letters, digits and "_" only, so it is a valid schema, stream and subject token. */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}
