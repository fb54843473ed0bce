/**
 * A throwaway nats-server with JetStream: file store in a temp dir, client and monitoring ports on
 * 127.0.0.1. Binary: $NATS_SERVER_BIN, `nats-server` on PATH, /usr/sbin or /usr/local/bin.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ConfigError } from '../core/event-store.ts';
import { freePort, retryOnPortClash, startManagedProcess } from './managed-process.ts';
import { createOwnedDir } from './owned-dir.ts';
import type { ServerHandle } from './server-handle.ts';

export interface NatsServerHandle extends ServerHandle {
  /** http://127.0.0.1:<port> of the server's monitoring endpoints (/varz, /jsz, /healthz). */
  readonly monitorUrl: string;
}

export interface ManagedNatsOptions {
  /** Where to look for the binary instead of the default places (tests use this). */
  candidates?: string[];
}

export async function startManagedNats(options: ManagedNatsOptions = {}): Promise<NatsServerHandle> {
  const bin = findNatsServer(options.candidates);
  if (!bin) {
    throw new ConfigError('nats-server not found (PATH, /usr/sbin, /usr/local/bin): apt-get install nats-server, or set NATS_SERVER_BIN, or run one (e.g. docker compose up -d nats) and set NATS_URL');
  }
  const version = /v?(\d+\.\d+\.\d+\S*)/.exec(execFileSync(bin, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
  const dir = createOwnedDir('eventbench-nats-');
  const rootDir = dir.path;
  const dataDir = join(rootDir, 'jetstream');
  try {
    return await retryOnPortClash(async () => {
      const port = await freePort();
      const monitorPort = await freePort();
      const monitorUrl = `http://127.0.0.1:${monitorPort}`;
      return startManagedProcess<{ monitorUrl: string }>(
        {
          kind: 'nats',
          source: bin,
          version,
          url: `nats://127.0.0.1:${port}`,
          port,
          dir,
          dataDir,
          logFile: join(rootDir, 'server.log'),
          command: bin,
          args: ['-js', '-sd', dataDir, '-a', '127.0.0.1', '-p', String(port), '-m', String(monitorPort), '-n', `eventbench-${port}`],
          stopSignal: 'SIGTERM',
          probe: () => probeHealthz(monitorUrl),
        },
        { monitorUrl },
      );
    });
  } catch (err) {
    await dir.remove();
    throw err;
  }
}

/** /healthz answers 200 once the server (and JetStream, with js-enabled) is ready. */
async function probeHealthz(monitorUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${monitorUrl}/healthz?js-enabled=true`, { signal: AbortSignal.timeout(1_000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

export function findNatsServer(
  candidates: (string | undefined)[] = [
    process.env.NATS_SERVER_BIN,
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'nats-server')),
    '/usr/sbin/nats-server',
    '/usr/local/bin/nats-server',
  ],
): string | undefined {
  for (const c of candidates) {
    if (!c) continue;
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}
