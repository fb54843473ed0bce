/**
 * `eventbench restore --backend <b> --in FILE [--force]` (docs/admin.md): a backup into a namespace on your
 * servers, any backend (PostgreSQL -> JetStream and back). The file is checked whole before anything
 * connects; a non-empty target is refused unless --force; a failure or Ctrl-C part-way empties the
 * namespace again (exit 1 / 130).
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { fmtCount } from '../../report/format.ts';
import { UsageError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { abortableOnSignals, addExternalServerOptions, checkExternalOptions, openExternalServers, progressPrinter, storeUrls, type ExternalCliOptions } from './streams.ts';

interface RestoreCliOptions extends ExternalCliOptions {
  in?: string;
  force?: boolean;
}

export function registerRestore(program: Command): void {
  const cmd = program
    .command('restore')
    .description('append the events of a backup file to an empty namespace on your servers, versions and order as in the source')
    .option('--in <file>', 'the backup file (written by eventbench backup)')
    .option('--force', 'delete the events already in the target namespace first (otherwise a non-empty target is refused)');
  addExternalServerOptions(cmd, 'the backend to restore into').action(async (opts: RestoreCliOptions) => {
    if (!opts.in) throw new UsageError('--in FILE is required: the backup to restore (written by eventbench backup --out FILE)');
    if (!existsSync(opts.in)) throw new UsageError(`--in ${opts.in}: no such file`);
    if (!statSync(opts.in).isFile()) throw new UsageError(`--in ${opts.in} is not a file`);
    const { backend, namespace } = checkExternalOptions(opts, 'restore');
    const { checkBackupFile, runRestore } = await import('../../runners/backup/restore.ts');
    // The whole file, before any server is asked: a bad backup costs no connection and writes nothing.
    const input = opts.in;
    const checked = await checkBackupFile(input);
    await using servers = await openExternalServers(opts, backend);
    const started = Date.now();
    await abortableOnSignals(async (signal) => {
      try {
        const r = await runRestore({ backend, namespace, urls: storeUrls(servers), input, force: opts.force ?? false, signal, onProgress: progressPrinter('restore'), checked });
        const purged = r.purged > 0 ? ` (${fmtCount(r.purged)} events already there deleted first, --force)` : '';
        process.stderr.write(
          `eventbench restore: ${fmtCount(r.events)} events in ${fmtCount(r.streams)} streams from ${input} (${r.header.backend} namespace ${r.header.namespace}) into ${backend} namespace ${namespace}${purged} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      } catch (err) {
        if (!signal.aborted) throw err;
        process.stderr.write(`eventbench restore: interrupted: ${(err as Error).message.replace(/^restore /, '')}\n`);
        process.exitCode = EXIT.interrupted;
      }
    });
  });
}
