/**
 * `eventbench init --backend <name> [--schema S] [--preset P] [--json]`: creates what a backend needs
 * (PostgreSQL: the sql/ migrations in a schema; JetStream: streams and consumers of a preset) through
 * `backends[name].init`, idempotently: a second run reports every item `unchanged`. Items that exist but
 * differ from what eventbench would create are reported as `differs` (never changed silently) and make
 * the exit code 1.
 */
import { Option, type Command } from 'commander';
import { BACKEND_NAMES, backends, isBackendName, type InitReport } from '../../store/index.ts';
import { UsageError } from '../errors.ts';
import { addServerOptions, openServers, type ServerCliOptions } from '../server-options.ts';

interface InitCliOptions extends ServerCliOptions {
  backend: string;
  schema?: string;
  namespace?: string;
  preset?: string;
  json?: boolean;
}

export function registerInit(program: Command): void {
  const cmd = program
    .command('init')
    .description('create the schema / streams a backend needs (idempotent: a second run changes nothing)')
    .addOption(new Option('--backend <name>', 'backend to initialise').choices(BACKEND_NAMES).makeOptionMandatory())
    .option('--schema <name>', 'PostgreSQL schema (same as --namespace)')
    .option('--namespace <name>', 'namespace: PostgreSQL schema / JetStream stream-name and subject prefix (default eventbench)')
    .option('--preset <name>', 'stream preset to create (backends that have presets, e.g. jetstream)')
    .option('--json', 'print the InitReport as JSON');
  addServerOptions(cmd).action(async (opts: InitCliOptions) => {
    if (!isBackendName(opts.backend)) throw new UsageError(`--backend ${opts.backend}: expected one of ${BACKEND_NAMES.join(', ')}`);
    if (opts.schema !== undefined && opts.namespace !== undefined && opts.schema !== opts.namespace) {
      throw new UsageError('--schema and --namespace name the same thing: give one');
    }
    const namespace = opts.schema ?? opts.namespace;
    // Before any server starts (the same rule as load and generate): a valid schema, stream-name and subject prefix.
    if (namespace !== undefined && !/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(namespace)) {
      throw new UsageError(`${opts.schema !== undefined ? '--schema' : '--namespace'} ${JSON.stringify(namespace)}: letters, digits and "_", starting with a letter, at most 41`);
    }
    const backend = backends[opts.backend];
    await using servers = await openServers(opts, backend.needs);
    const report = await backend.init({
      ...(servers.pgUrl !== undefined ? { pgUrl: servers.pgUrl } : {}),
      ...(servers.natsUrl !== undefined ? { natsUrl: servers.natsUrl } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      ...(opts.preset !== undefined ? { preset: opts.preset } : {}),
    });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatInitReport(report));
    const discarded = throwawayNote(opts.backend, servers);
    if (discarded) process.stderr.write(`eventbench: note: ${discarded}\n`);
    if (report.items.some((i) => i.status === 'differs')) {
      process.stderr.write('eventbench: some items differ from what init would create (see above); nothing was changed\n');
      process.exitCode = 1;
    }
  });
}

/**
 * What init did is lost when it ran against a server started for this run (or in this process's memory):
 * say so, and how to keep it.
 */
function throwawayNote(backend: string, servers: { postgres?: unknown; nats?: unknown }): string | undefined {
  if (backend === 'memory') return 'the memory backend keeps nothing after this process ends; init matters for postgres and jetstream';
  const managed = [servers.postgres ? 'PostgreSQL' : undefined, servers.nats ? 'NATS' : undefined].filter(Boolean);
  if (managed.length === 0) return undefined;
  const how = [servers.postgres ? '--pg-url / PG_URL' : undefined, servers.nats ? '--nats-url / NATS_URL' : undefined].filter(Boolean).join(' and ');
  return `this ran against a throwaway ${managed.join(' and ')} started for this command, stopped and deleted now; to keep the result, run init against your server with ${how} (docker compose up -d starts one)`;
}

export function formatInitReport(report: InitReport): string {
  const lines = [`${report.backend}:`];
  for (const item of report.items) {
    lines.push(`  ${item.status.padEnd(9)} ${item.kind} ${item.name}${item.detail ? ` (${item.detail})` : ''}`);
  }
  const counts = new Map<string, number>();
  for (const item of report.items) counts.set(item.status, (counts.get(item.status) ?? 0) + 1);
  const changed = report.items.some((i) => i.status === 'created' || i.status === 'updated');
  lines.push(changed ? [...counts].map(([status, n]) => `${n} ${status}`).join(', ') : 'nothing changed');
  return `${lines.join('\n')}\n`;
}
