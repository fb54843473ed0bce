/** Secrets made for a run: random, URL-safe, never derived from anything a reader of the results could see. */
import { randomBytes } from 'node:crypto';

/** 24 random bytes as base64url (32 characters): safe in a URL's user and password parts without escaping. */
export function newSecret(): string {
  return randomBytes(24).toString('base64url');
}
