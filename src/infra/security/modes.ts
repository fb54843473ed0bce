/**
 * The security a managed server can be started with (docs/security.md). Apart from their implementations
 * so that the CLI can list them without loading nkeys, pg or openssl helpers.
 */

/** NATS: accounts DOMAIN / QUERY / SYS with users, or one token; each optionally with TLS. */
export const NATS_SECURITY_MODES = ['none', 'accounts', 'token', 'tls', 'accounts+tls', 'token+tls'] as const;
export type NatsSecurityMode = (typeof NATS_SECURITY_MODES)[number];

/** PostgreSQL: a non-superuser role for the harness, TLS only, or both. */
export const PG_SECURITY_MODES = ['none', 'role', 'tls', 'role+tls'] as const;
export type PgSecurityMode = (typeof PG_SECURITY_MODES)[number];
