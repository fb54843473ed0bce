/**
 * Where servers come from (see servers.ts). Its own file, free of drivers, so that the CLI can declare
 * `--infra` without loading pg and nats.js at start-up.
 */
export const INFRA_MODES = ['auto', 'managed', 'external'] as const;
export type InfraMode = (typeof INFRA_MODES)[number];
