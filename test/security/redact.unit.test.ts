/**
 * Secrets in server URLs (docs/security.md): a NATS URL carries user/password, a token, an nkey seed
 * file, a creds file and a CA as the nats CLI names them; redactUrl hides passwords and tokens in every
 * form a URL is given (a single URL, a NATS list, something that is not a URL).
 */
import { describe, expect, it } from 'vitest';
import { parseNatsClientUrl, withNatsUrlParams } from '../../src/core/nats-client-url.ts';
import { redactUrl } from '../../src/infra/servers.ts';

describe('parseNatsClientUrl', () => {
  it('reads user and password, a token, TLS, and the file parameters', () => {
    expect(parseNatsClientUrl('nats://u:p%40ss@127.0.0.1:4222')).toEqual({ servers: ['127.0.0.1:4222'], user: 'u', pass: 'p@ss', tls: false });
    expect(parseNatsClientUrl('nats://s3cr3t@h:1')).toEqual({ servers: ['h:1'], token: 's3cr3t', tls: false });
    expect(parseNatsClientUrl('tls://h:2?tlsca=%2Ftmp%2Fca.pem&nkey=/tmp/u.nk')).toEqual({ servers: ['h:2'], tls: true, tlsCaFile: '/tmp/ca.pem', nkeyFile: '/tmp/u.nk' });
    expect(parseNatsClientUrl('h:3?creds=/c.creds')).toEqual({ servers: ['h:3'], credsFile: '/c.creds', tls: false });
    expect(parseNatsClientUrl('tls://h:4')).toEqual({ servers: ['h:4'], tls: true });
  });

  it('takes the credentials of the first URL of a list for all, and gives every server as host:port', () => {
    expect(parseNatsClientUrl('nats://u:p@a:1, nats://b:2,c')).toEqual({ servers: ['a:1', 'b:2', 'c:4222'], user: 'u', pass: 'p', tls: false });
  });

  it('refuses an unknown parameter without repeating the URL', () => {
    expect(() => parseNatsClientUrl('nats://u:secret@h:1?tlscert=x')).toThrow(/^unknown NATS URL parameter "tlscert" \(allowed: tlsca, nkey, creds\)$/);
  });

  it('adds CLI files as parameters to every URL that lacks them', () => {
    expect(withNatsUrlParams('nats://a:1,b:2', { tlsca: '/ca.pem' })).toBe('nats://a:1?tlsca=%2Fca.pem,nats://b:2?tlsca=%2Fca.pem');
    expect(withNatsUrlParams('nats://a:1?tlsca=/mine.pem', { tlsca: '/ca.pem', nkey: undefined })).toBe('nats://a:1?tlsca=/mine.pem');
    expect(withNatsUrlParams('nats://a:1', {})).toBe('nats://a:1');
  });
});

describe('redactUrl', () => {
  it('hides a password, and a NATS token (a user part without a password)', () => {
    expect(redactUrl('postgres://eventbench:hunter2hunter2@127.0.0.1:5432/eventbench?sslmode=verify-full')).toBe('postgres://eventbench:***@127.0.0.1:5432/eventbench?sslmode=verify-full');
    expect(redactUrl('tls://domain_user:pw123@127.0.0.1:4222?tlsca=%2Fx')).toBe('tls://domain_user:***@127.0.0.1:4222?tlsca=%2Fx');
    expect(redactUrl('nats://mytoken@127.0.0.1:4222')).toBe('nats://***@127.0.0.1:4222');
    // A PostgreSQL user without a password is a name, not a secret.
    expect(redactUrl('postgres://postgres@127.0.0.1:5432/postgres')).toBe('postgres://postgres@127.0.0.1:5432/postgres');
  });

  it('hides each entry of a NATS list, and whatever precedes @ in a string that is not a URL', () => {
    expect(redactUrl('nats://u:pw@a:1,nats://tok@b:2')).toBe('nats://u:***@a:1,nats://***@b:2');
    expect(redactUrl('u:pw@[bad')).toBe('***@[bad');
    expect(redactUrl('domain_user:pw@127.0.0.1:4222')).toBe('***@127.0.0.1:4222');
  });
});
