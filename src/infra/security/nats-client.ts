/**
 * nats.js options from a NATS URL with credentials and TLS parameters (src/core/nats-client-url.ts), for
 * the connections src/infra opens (the URL check, the environment capture): the same mapping the JetStream
 * adapter and the raw baseline use (src/store/nats-auth.ts), so every client authenticates alike.
 */
export { natsAuthOptions as natsClientOptions } from '../../store/nats-auth.ts';
