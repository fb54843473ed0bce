/**
 * The backend registry (src/store/index.ts) and its descriptors: what callers read before a backend's
 * module loads (which servers, whether worker threads can share it, settings checks), the settings of
 * every backend checked by its schema (a wrong or unknown key is a ConfigError naming it), and loading
 * the registry pulls in no driver (kysely / pg / nats.js cost ~0.5 s of every CLI start, --help included).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/event-store.ts';
import { BACKEND_NAMES, backends } from '../../src/store/index.ts';
import { hybridBackend } from '../../src/store/hybrid/index.ts';
import { jetstreamBackend } from '../../src/store/jetstream/index.ts';
import { memoryBackend } from '../../src/store/memory/index.ts';
import { postgresBackend, postgresOptions } from '../../src/store/postgres/index.ts';

describe('backend registry', () => {
  it('states each backend once: the registry entry and the module carry the same descriptor', () => {
    const modules = { memory: memoryBackend, postgres: postgresBackend, jetstream: jetstreamBackend, hybrid: hybridBackend };
    expect(BACKEND_NAMES).toEqual(['memory', 'postgres', 'jetstream', 'hybrid']);
    for (const name of BACKEND_NAMES) {
      const entry = backends[name];
      const module = modules[name];
      expect(entry.name).toBe(name);
      expect(module.needs).toBe(entry.needs);
      expect(module.sharedAcrossThreads).toBe(entry.sharedAcrossThreads);
      expect(module.parseSettings).toBe(entry.parseSettings);
    }
    expect(backends.memory.needs).toEqual({ postgres: false, nats: false });
    expect(backends.postgres.needs).toEqual({ postgres: true, nats: false });
    expect(backends.jetstream.needs).toEqual({ postgres: false, nats: true });
    expect(backends.hybrid.needs).toEqual({ postgres: true, nats: true });
    // The memory store's data lives in one thread's heap; the servers' stores are shared.
    expect(backends.memory.sharedAcrossThreads).toBe(false);
    expect(backends.postgres.sharedAcrossThreads).toBe(true);
    expect(backends.jetstream.sharedAcrossThreads).toBe(true);
  });

  it.each([
    ['memory', { maxEventBytes: 'big' }, /memory setting maxEventBytes/],
    ['memory', { maxEventBytes: 10 }, /memory setting maxEventBytes/],
    ['memory', { idempotencyWindowMs: -5 }, /memory setting idempotencyWindowMs/],
    ['memory', { maxEventByte: 2048 }, /memory setting maxEventByte is unknown; known: maxEventBytes, idempotencyWindowMs/],
    ['postgres', { poolSize: 0 }, /postgres setting poolSize/],
    ['postgres', { poolSize: 2.5 }, /postgres setting poolSize/],
    ['postgres', { outbox: 'yes' }, /postgres setting outbox/],
    ['postgres', { connectTimeoutMs: Infinity }, /postgres setting connectTimeoutMs/],
    ['postgres', { poolsize: 4 }, /postgres setting poolsize is unknown/],
    ['jetstream', { duplicateWindowMs: 5 }, /jetstream setting duplicateWindowMs/],
    ['jetstream', { storage: 'tape' }, /jetstream setting storage/],
    ['jetstream', { replica: 3 }, /jetstream setting replica is unknown/],
  ] as const)('%s refuses settings %j with a ConfigError naming the key', (name, settings, message) => {
    const parse = () => backends[name].parseSettings(settings);
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(message);
  });

  it('applies valid settings, and refuses bad ones before any server is asked', async () => {
    expect(backends.memory.parseSettings({ maxEventBytes: 2048, idempotencyWindowMs: null })).toEqual({ maxEventBytes: 2048, idempotencyWindowMs: null });
    expect(backends.jetstream.parseSettings(undefined).duplicateWindowMs).toBe(120_000);
    expect(postgresOptions({ pgUrl: 'postgres://x@127.0.0.1:1/db', namespace: 'abc', settings: { poolSize: 3, notify: false } })).toEqual({
      pgUrl: 'postgres://x@127.0.0.1:1/db',
      schema: 'abc',
      poolSize: 3,
      notify: false,
    });
    // Port 1: nothing listens there; a settings error must come first, without a connection attempt.
    await expect(backends.postgres.create({ pgUrl: 'postgres://x@127.0.0.1:1/db', settings: { poolSize: -1 } })).rejects.toThrow(/postgres setting poolSize/);
    await expect(backends.jetstream.create({ natsUrl: 'nats://127.0.0.1:1', settings: { occRetries: 0 } })).rejects.toThrow(/jetstream setting occRetries/);
    await expect(backends.memory.create({ settings: { maxEventBytes: 1 } })).rejects.toThrow(ConfigError);
  });

  it('loads no driver: importing the registry and reading its descriptors stays off pg and nats.js', () => {
    // pg and nats.js are CommonJS, so a loaded one is in require's cache (kysely is ESM, but comes with pg).
    const driversLoadedBy = (imports: string) => {
      const script = `
        ${imports}
        const { createRequire } = await import('node:module');
        const loaded = Object.keys(createRequire(import.meta.url).cache);
        const drivers = loaded.map((p) => /node_modules\\/(pg|@nats-io\\/[^/]+)\\//.exec(p)?.[1]).filter(Boolean);
        process.stdout.write(JSON.stringify([...new Set(drivers)].sort()));
      `;
      return JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })) as string[];
    };
    expect(
      driversLoadedBy(`const { backends } = await import('./src/store/index.ts');
        void backends.postgres.needs; backends.jetstream.parseSettings({}); backends.memory.parseSettings({});`),
    ).toEqual([]);
    // The check sees drivers when they are loaded (it is not vacuous).
    expect(driversLoadedBy(`await import('./src/store/postgres/index.ts'); await import('./src/store/jetstream/index.ts');`)).toEqual(
      expect.arrayContaining(['pg', '@nats-io/jetstream', '@nats-io/transport-node']),
    );
  });
});
