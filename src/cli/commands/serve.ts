/**
 * `eventbench serve --backend <b> [--port 3002] [--host 127.0.0.1]` (docs/event-api.md): the event API,
 * Server-Sent Events, the live page and the replay view over any backend, until Ctrl-C (exit 130). Every
 * flag, and whether the port is free, is checked before any server starts.
 */
import { Option, type Command } from 'commander';
import { createServer } from 'node:net';
import { ConfigError, SUBSCRIPTION_NAME_PATTERN } from '../../core/event-store.ts';
import { BACKEND_NAMES, backends, createStore, isBackendName } from '../../store/index.ts';
import { addServerOptions, openServers, type ServerCliOptions } from '../server-options.ts';
import { UsageError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';

/** As src/runners/serve/run.ts names it; that module (Fastify and all) loads only when serve runs. */
const DEFAULT_SUBSCRIPTION = 'eventbench-serve';
const isAddressInUse = (err: unknown): boolean => (err as NodeJS.ErrnoException)?.code === 'EADDRINUSE';

interface ServeCliOptions extends ServerCliOptions {
  backend?: string;
  port: string;
  host: string;
  namespace: string;
  subscription: string;
  token?: string;
}

/** Listens on host:port and lets go at once: a taken port is a bad-input line before any server starts. */
function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => {
      if (isAddressInUse(err)) reject(new UsageError(`--port ${port}: ${host}:${port} is in use; stop what listens there or pick another port`));
      else reject(new UsageError(`--host ${host} --port ${port}: cannot listen there (${(err as NodeJS.ErrnoException).code ?? err.message})`));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

export function registerServe(program: Command): void {
  const cmd = program
    .command('serve')
    .description('serve the event API (REST, Server-Sent Events), a live page and a replay view over a store, until Ctrl-C')
    .addOption(new Option('--backend <name>', 'the store to serve').choices(BACKEND_NAMES))
    .option('--port <port>', 'HTTP port (0 = any free port)', '3002')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--namespace <name>', 'PostgreSQL schema / JetStream stream prefix / memory namespace', 'eventbench')
    .option('--subscription <name>', 'the durable subscription that follows the store (a restart resumes from its checkpoint)', DEFAULT_SUBSCRIPTION)
    .option('--token <token>', 'require "Authorization: Bearer <token>" on every route but /health (default: $EVENTBENCH_SERVE_TOKEN; prefer the variable: a flag shows in ps)');
  addServerOptions(cmd).action(async (opts: ServeCliOptions) => {
    const name = opts.backend;
    if (!name) throw new UsageError(`--backend is required: ${BACKEND_NAMES.join(', ')}`);
    if (!isBackendName(name)) throw new UsageError(`unknown backend ${JSON.stringify(name)}: available: ${BACKEND_NAMES.join(', ')}`);
    const port = Number(opts.port);
    if (!/^\d+$/.test(opts.port) || port > 65535) throw new UsageError(`--port ${JSON.stringify(opts.port)} must be a port number (0-65535)`);
    if (!opts.host.trim()) throw new UsageError('--host must be an address, e.g. 127.0.0.1');
    if (!/^[A-Za-z][A-Za-z0-9_]{0,40}$/.test(opts.namespace)) throw new ConfigError(`--namespace ${JSON.stringify(opts.namespace)}: letters, digits and "_", starting with a letter`);
    if (!SUBSCRIPTION_NAME_PATTERN.test(opts.subscription)) {
      throw new UsageError(`--subscription ${JSON.stringify(opts.subscription)}: letters, digits, "_" and "-", starting with a letter`);
    }
    const token = opts.token ?? (process.env.EVENTBENCH_SERVE_TOKEN || undefined);
    // Never echo the token: the message names the rule only.
    if (token !== undefined && !/^[\x21-\x7e]{16,}$/.test(token)) {
      throw new UsageError('--token / EVENTBENCH_SERVE_TOKEN: at least 16 printable characters without spaces (e.g. openssl rand -hex 24)');
    }
    await checkPortFree(opts.host, port);

    await using servers = await openServers(opts, backends[name].needs);
    const store = await createStore(name, {
      namespace: opts.namespace,
      ...(servers.pgUrl ? { pgUrl: servers.pgUrl } : {}),
      ...(servers.natsUrl ? { natsUrl: servers.natsUrl } : {}),
    });
    // From here on Ctrl-C is ours: stop HTTP, the subscription and the store, then the servers (await using).
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => (stop = resolve));
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await store.init();
      process.stderr.write(`eventbench serve: reading the ${name} store...\n`);
      const { startServe } = await import('../../runners/serve/run.ts');
      const handle = await startServe(store, { host: opts.host, port, subscription: opts.subscription, ...(token ? { token } : {}) });
      try {
        const page = token ? `${handle.url}/?token=<token>` : `${handle.url}/`;
        const auth = token ? '; every route but /health needs "Authorization: Bearer <token>"' : '';
        process.stderr.write(`eventbench serve: ${handle.caughtUp} events read; listening on ${handle.url} (live page at ${page}, API at ${handle.url}/events${auth}); Ctrl-C to stop\n`);
        if (!interrupted) await stopped;
      } finally {
        await handle.close();
      }
      process.stderr.write('eventbench serve: stopped\n');
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await store.close();
    }
    if (interrupted) process.exitCode = EXIT.interrupted;
  });
}
