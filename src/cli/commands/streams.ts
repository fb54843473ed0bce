/**
 * `eventbench streams ls|info|purge|rm [NAME] --backend <b>` (docs/admin.md): `nats stream ls|info|purge|rm`
 * for an eventbench namespace, on PostgreSQL (categories and event streams, counts, sizes, the schema's
 * tables) and JetStream (the namespace's JetStream streams). It acts on your servers only (--pg-url /
 * --nats-url / PG_URL / NATS_URL): a throwaway server started for the command would be empty.
 */
import { Option, type Command } from 'commander';
import { ADMIN_BACKENDS, ADMIN_NEEDS, checkAdminBackend, openAdmin, type AdminBackend } from '../../runners/admin/open-admin.ts';
import { formatDetail, formatListing, formatRemoval } from '../../runners/admin/format.ts';
import { UsageError } from '../errors.ts';
import { openServers, type Servers } from '../server-options.ts';

const ACTIONS = ['ls', 'info', 'purge', 'rm'] as const;
type Action = (typeof ACTIONS)[number];
const NAMESPACE = /^[A-Za-z][A-Za-z0-9_]{0,40}$/;

/** The flags of every command that administers a namespace on the user's servers (streams, backup, restore). */
export interface ExternalCliOptions {
  backend?: string;
  namespace: string;
  pgUrl?: string;
  natsUrl?: string;
}

export function addExternalServerOptions(cmd: Command, what: string): Command {
  return cmd
    .addOption(new Option('--backend <name>', what).choices(ADMIN_BACKENDS))
    .option('--namespace <name>', 'namespace: PostgreSQL schema / JetStream stream-name and subject prefix', 'eventbench')
    .option('--pg-url <url>', 'the PostgreSQL to act on (default: $PG_URL)')
    .option('--nats-url <url>', 'the NATS server (JetStream) to act on (default: $NATS_URL)');
}

/** The backend and namespace, checked before anything connects. */
export function checkExternalOptions(opts: ExternalCliOptions, command: string): { backend: AdminBackend; namespace: string } {
  if (!opts.backend) throw new UsageError(`--backend is required: ${ADMIN_BACKENDS.join(', ')}`);
  const backend = checkAdminBackend(opts.backend);
  if (!NAMESPACE.test(opts.namespace)) throw new UsageError(`--namespace ${JSON.stringify(opts.namespace)}: letters, digits and "_", starting with a letter, at most 41`);
  const needs = ADMIN_NEEDS[backend];
  const missing = [
    needs.postgres && !(opts.pgUrl ?? process.env.PG_URL)?.trim() ? '--pg-url postgres://... (or PG_URL)' : undefined,
    needs.nats && !(opts.natsUrl ?? process.env.NATS_URL)?.trim() ? '--nats-url nats://... (or NATS_URL)' : undefined,
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new UsageError(`${command} acts on your servers, and a throwaway one started for it would be empty: give ${missing.join(' and ')}`);
  }
  return { backend, namespace: opts.namespace };
}

/** The user's servers, checked by shape and reachability (one line, exit 2, when unusable); nothing is started. */
export function openExternalServers(opts: ExternalCliOptions, backend: AdminBackend): Promise<Servers> {
  return openServers({ infra: 'external', ...(opts.pgUrl ? { pgUrl: opts.pgUrl } : {}), ...(opts.natsUrl ? { natsUrl: opts.natsUrl } : {}) }, ADMIN_NEEDS[backend]);
}

/** The store URLs of opened servers, as the backup and restore runners take them. */
export function storeUrls(servers: Servers): { pgUrl?: string; natsUrl?: string } {
  return { ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}), ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}) };
}

/**
 * An abort signal that Ctrl-C (or SIGTERM) fires while `work` runs, so a backup or restore stops and
 * cleans up instead of dying half-way; the handlers are removed when `work` ends.
 */
export async function abortableOnSignals<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await work(abort.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** A progress line on stderr at most every 5 s (backup and restore of a large namespace take minutes). */
export function progressPrinter(command: string): (done: number, total: number) => void {
  let last = Date.now();
  return (done, total) => {
    if (Date.now() - last < 5_000) return;
    last = Date.now();
    process.stderr.write(`eventbench ${command}: ${done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} events\n`);
  };
}

interface StreamsCliOptions extends ExternalCliOptions {
  json?: boolean;
  yes?: boolean;
}

export function registerStreams(program: Command): void {
  const cmd = program
    .command('streams')
    .description('list, inspect, purge or remove the streams of a namespace on your servers (as nats stream ls|info|purge|rm)')
    .argument('<action>', `one of ${ACTIONS.join(', ')}`)
    .argument('[name]', 'for info / purge / rm: a category or JetStream stream (as ls shows it), or one event stream <category>-<id>')
    .option('--json', 'print JSON instead of a table')
    .option('--yes', 'confirm purge / rm (they delete events; without it they refuse)');
  addExternalServerOptions(cmd, 'the backend whose streams to show').action(async (action: string, name: string | undefined, opts: StreamsCliOptions) => {
    if (!(ACTIONS as readonly string[]).includes(action)) throw new UsageError(`streams ${JSON.stringify(action)}: expected one of ${ACTIONS.join(', ')}`);
    const act = action as Action;
    if (act === 'ls' && name !== undefined) throw new UsageError(`streams ls takes no name (got ${JSON.stringify(name)}); streams info ${name} shows one`);
    if (act !== 'ls' && name === undefined) throw new UsageError(`streams ${act} needs a NAME: a category or stream as streams ls shows it, or an event stream <category>-<id>`);
    if ((act === 'purge' || act === 'rm') && !opts.yes) {
      const what = act === 'purge' ? 'deletes its events (the stream and its consumers stay)' : 'deletes it with its events and consumers';
      throw new UsageError(`streams ${act} ${name} ${what}: add --yes to confirm`);
    }
    const { backend, namespace } = checkExternalOptions(opts, `streams ${act}`);
    await using servers = await openExternalServers(opts, backend);
    await using admin = await openAdmin(backend, { namespace, ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}), ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}) });
    const print = (value: unknown, text: string) => process.stdout.write(opts.json ? `${JSON.stringify(value, null, 2)}\n` : text);
    switch (act) {
      case 'ls': {
        const listing = await admin.list();
        print(listing, formatListing(listing));
        break;
      }
      case 'info': {
        const detail = await admin.info(name!);
        print(detail, formatDetail(detail));
        break;
      }
      case 'purge': {
        const r = await admin.purge(name!);
        print(r, formatRemoval('purged', r));
        break;
      }
      case 'rm': {
        const r = await admin.remove(name!);
        print(r, formatRemoval('removed', r));
        break;
      }
    }
  });
}
