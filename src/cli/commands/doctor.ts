/**
 * `eventbench doctor [--json]`: starts (or reaches) PostgreSQL and NATS the way every other command
 * would, and prints what results will record about them and this machine. The first thing to run,
 * and the thing to attach to a bug report.
 */
import type { Command } from 'commander';
import type { Environment } from '../../core/environment.ts';
import { addServerOptions, addTopologyOption, openServers, type ServerCliOptions } from '../server-options.ts';

export function registerDoctor(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('start or reach PostgreSQL and NATS and print the environment results will record (versions, durability settings, machine, git)')
    .option('--json', 'print the environment as JSON (the `environment` object of every results file)');
  addTopologyOption(addServerOptions(cmd)).action(async (opts: ServerCliOptions & { json?: boolean }) => {
    // A NATS server without JetStream is what doctor is there to point out, not a reason to refuse.
    await using servers = await openServers(opts, { postgres: true, nats: true, jetstream: false });
    const { captureEnvironment } = await import('../../infra/environment.ts'); // drivers load on use
    const env = await captureEnvironment(servers);
    process.stdout.write(opts.json ? `${JSON.stringify(env, null, 2)}\n` : formatEnvironment(env));
  });
}

/** The human-readable form: one block per server, the settings that decide durability first. */
export function formatEnvironment(env: Environment): string {
  const lines: string[] = [];
  const row = (k: string, v: string | number | null | undefined) => lines.push(`  ${k.padEnd(20)} ${v ?? '-'}`);
  const m = env.machine;
  const git = env.git.revision ? `${env.git.revision.slice(0, 12)}${env.git.dirty ? ' (dirty)' : ''}${env.git.branch ? ` on ${env.git.branch}` : ''}` : 'not a git checkout';
  lines.push(`eventbench ${env.eventbench.version}`);
  row('git', git);
  row('node', env.node.version);
  row('machine', `${m.cores} cores (${m.cpuModel}), ${formatBytes(m.memoryBytes)} RAM, ${m.os}`);
  row('load average', m.loadAverage.join(' '));
  row('drivers', Object.entries(env.drivers).map(([k, v]) => `${k} ${v}`).join(', '));
  if (env.postgres) {
    const p = env.postgres;
    lines.push('', `PostgreSQL ${p.version}`);
    row('url', p.url);
    row('server', p.managed ? `managed, ${p.source ?? ''}` : 'external');
    if (p.dataDir) row('data dir', p.dataDir);
    for (const [k, v] of Object.entries(p.settings)) row(k, v);
  }
  if (env.nats) {
    const n = env.nats;
    const js = n.jetstream;
    lines.push('', `NATS ${n.version}`);
    row('url', n.url);
    row('server', n.managed ? `managed, ${n.source ?? ''}` : 'external');
    row('jetstream', js.enabled ? 'enabled' : 'NOT enabled (start nats-server with -js)');
    row('store dir', js.storeDir);
    row('max storage', js.maxStorageBytes === null ? null : formatBytes(js.maxStorageBytes));
    row('max memory', js.maxMemoryBytes === null ? null : formatBytes(js.maxMemoryBytes));
    row('sync interval', js.syncInterval ?? 'n/a');
    row('durability', js.durability);
    if (!n.monitorUrl && !n.managed) row('note', 'no monitoring port found (http://<host>:8222): store dir and limits unknown');
  }
  const t = env.topology;
  if (t) {
    lines.push('', `Topology ${t.name}`);
    if (t.nats) {
      row('nats servers', `${t.nats.urls} in the URL${t.nats.cluster ? `, cluster ${t.nats.cluster}` : ''}`);
      row('jetstream nodes', t.nats.nodes === null ? 'unknown (no monitoring port)' : `${t.nats.nodes}${t.nats.metaLeader ? `, meta leader ${t.nats.metaLeader}` : ''}`);
      row('stream replicas', t.nats.streamReplicas);
    }
    if (t.postgres) {
      row('sync standby names', t.postgres.synchronousStandbyNames ?? '(none)');
      if (t.postgres.standbys.length === 0) row('standbys', 'none (pg_stat_replication is empty)');
      for (const sb of t.postgres.standbys) {
        row('standby', `${sb.name}: ${sb.state}, ${sb.syncState}, replay lag ${sb.replayLagBytes ?? '?'} bytes${sb.flushLagMs === null ? '' : `, flush lag ${sb.flushLagMs.toFixed(1)} ms`}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
