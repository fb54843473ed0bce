/**
 * The parts of environment capture that need no server: what a NATS version says about durability,
 * password redaction, and the machine / git facts every result carries.
 */
import { describe, expect, it } from 'vitest';
import { machineSchema, gitSchema } from '../src/core/environment.ts';
import { captureGit, captureMachine, describeSync } from '../src/infra/environment.ts';
import { redactUrl } from '../src/infra/servers.ts';

describe('describeSync', () => {
  it('says that nats-server before 2.10 fsyncs every 60 s and has no sync_interval', () => {
    const s = describeSync('2.9.10', undefined, undefined);
    expect(s.syncInterval).toBeNull();
    expect(s.durability).toMatch(/every 60 s/);
    expect(s.durability).toMatch(/no sync_interval/);
  });

  it('reports a configured sync_interval (nanoseconds in /varz) and sync always on 2.10+', () => {
    expect(describeSync('2.10.22', 10e9, false).syncInterval).toBe('10s');
    expect(describeSync('2.11.0', undefined, true)).toMatchObject({ syncInterval: 'always', syncAlways: true });
    expect(describeSync('2.10.0', undefined, undefined).durability).toMatch(/2m \(default/);
  });
});

describe('redactUrl', () => {
  it('hides a password and keeps everything else', () => {
    expect(redactUrl('postgres://app:s3cret@db.example:5432/events')).toBe('postgres://app:***@db.example:5432/events');
    expect(redactUrl('nats://127.0.0.1:4222')).toBe('nats://127.0.0.1:4222');
  });
});

describe('machine and git', () => {
  it('captures cores, memory and OS', () => {
    const m = machineSchema.parse(captureMachine());
    expect(m.cores).toBeGreaterThan(0);
    expect(m.memoryBytes).toBeGreaterThan(0);
  });

  it('returns nulls outside a git checkout instead of failing', () => {
    expect(gitSchema.parse(captureGit('/'))).toEqual({ revision: null, dirty: null, branch: null });
  });
});

describe('nothing to start', () => {
  it('no nats-server: a ConfigError naming the fixes', async () => {
    const { startManagedNats } = await import('../src/infra/managed-nats.ts');
    const { ConfigError } = await import('../src/core/event-store.ts');
    const attempt = startManagedNats({ candidates: ['/nonexistent/nats-server'] });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(/apt-get install nats-server.*NATS_URL/);
  });

  it('a --pg-bin directory without PostgreSQL: a ConfigError naming the choices', async () => {
    const { startManagedPostgres } = await import('../src/infra/managed-postgres.ts');
    await expect(startManagedPostgres({ bin: '/nonexistent' })).rejects.toThrow(/embedded.*system.*initdb and postgres/);
  });
});
