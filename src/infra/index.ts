/**
 * Where servers come from, and what a result records about them. Everything outside src/infra uses
 * these names (the CLI goes through src/cli/server-options.ts).
 */
export { openServers, redactUrl, type OpenServersOptions, type Servers } from './servers.ts';
export { INFRA_MODES, type InfraMode } from './infra-mode.ts';
export type { ServerHandle } from './server-handle.ts';
export { startManagedPostgres, type ManagedPostgresOptions } from './managed-postgres.ts';
export { startManagedNats, findNatsServer, type NatsServerHandle, type ManagedNatsOptions } from './managed-nats.ts';
export { captureEnvironment, type CaptureEnvironmentOptions } from './environment.ts';
export { isAlive, processTree, stopAllOwned } from './process-registry.ts';
