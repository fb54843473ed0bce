/**
 * Durability profiles (`--durability default|matched`). `default` leaves every server as it is;
 * `matched` makes an acknowledgement mean the same on both sides as far as the server versions allow:
 *
 * - nats-server < 2.10 acks a publish from memory and fsyncs every 60 s in the background (no
 *   sync_interval option): PostgreSQL sessions get `synchronous_commit=off` (a commit acked from memory,
 *   WAL flushed within 3 x wal_writer_delay), set per session at connect, so it also works on external
 *   servers;
 * - nats-server >= 2.10 that eventbench starts itself gets `sync_interval: always` (every write fsynced
 *   before the ack, src/infra/managed-nats.ts), against PostgreSQL's fsynced commits (left `on`).
 *
 * Every result then says in one line per side what an ack means, from the settings the servers report.
 */
import { ConfigError } from '../../core/event-store.ts';
import type { Environment } from '../../core/environment.ts';
import { storeModule, type StoreName } from '../../store/index.ts';

export const DURABILITY_PROFILES = ['default', 'matched'] as const;
export type DurabilityProfile = (typeof DURABILITY_PROFILES)[number];

export function parseDurability(text: string | undefined): DurabilityProfile {
  const v = text ?? 'default';
  if (!(DURABILITY_PROFILES as readonly string[]).includes(v)) throw new ConfigError(`--durability ${JSON.stringify(v)}: expected ${DURABILITY_PROFILES.join(' or ')}`);
  return v as DurabilityProfile;
}

/** Whether the run's NATS server fsyncs every write before its ack (as it reported). */
export function natsSyncsAlways(env: Environment): boolean {
  return env.nats?.jetstream.syncAlways === true;
}

/** The backend settings a profile adds for one store (undefined: none). */
export function durabilitySettings(profile: DurabilityProfile, store: StoreName, env: Environment): Record<string, unknown> | undefined {
  if (profile !== 'matched') return undefined;
  const module = storeModule(store);
  // Against a JetStream that fsyncs before acking, PostgreSQL's own fsynced commit is the match.
  if (!module.needs.postgres || natsSyncsAlways(env)) return undefined;
  const settings = { synchronousCommit: 'off' };
  try {
    module.parseSettings(settings);
    return settings;
  } catch {
    return undefined; // a store that cannot set it (its result then reports the server's own setting)
  }
}

/** What the profile changed, in words, for the result. */
export function durabilityChanges(profile: DurabilityProfile, env: Environment, stores: StoreName[]): string[] {
  if (profile === 'default') return ['none: every server as configured'];
  const out: string[] = [];
  const pg = stores.filter((s) => durabilitySettings(profile, s, env) !== undefined);
  if (pg.length && !natsSyncsAlways(env)) out.push(`${pg.join(', ')}: synchronous_commit=off in every session (set at connect)`);
  if (env.nats) {
    if (natsSyncsAlways(env)) out.push(`nats-server ${env.nats.version}: sync_interval always (fsync before every ack); PostgreSQL commits left fsynced`);
    else out.push(`nats-server ${env.nats.version}: ${env.nats.managed ? 'no sync_interval option before 2.10, left as it is' : 'external server, left as it is'}`);
  }
  return out;
}

/** One line: what an acknowledged append means on this store, from the settings its server reported. */
export function ackMeaning(store: StoreName, settings: Record<string, string>, env: Environment): string {
  const needs = storeModule(store).needs;
  // A store on PostgreSQL acknowledges an append with a commit (the hybrid topology relays it afterwards).
  if (needs.nats && !needs.postgres && env.nats) return env.nats.jetstream.durability;
  if (needs.postgres) {
    const sc = settings.synchronous_commit ?? env.postgres?.settings.synchronous_commit ?? 'unknown';
    const fsync = settings.fsync ?? env.postgres?.settings.fsync ?? 'unknown';
    if (fsync === 'off') return `fsync=off: a commit ack means "in the server's memory" and a crash of the machine can lose it`;
    if (sc === 'off') return `synchronous_commit=off, fsync=${fsync}: a commit ack means "in the server's memory"; its WAL is flushed within 3 x wal_writer_delay (${settings.wal_writer_delay ?? '?'}${/^\d+$/.test(settings.wal_writer_delay ?? '') ? ' ms' : ''})`;
    return `synchronous_commit=${sc}, fsync=${fsync}: a commit ack means its WAL is flushed to disk${sc === 'remote_apply' || sc === 'remote_write' || (sc === 'on' && settings.synchronous_standby_names) ? ' (and on the synchronous standby)' : ''}`;
  }
  return 'in the process\'s memory (no server)';
}
