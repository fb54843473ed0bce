/**
 * `eventbench backup --backend <b> --out FILE` (docs/admin.md): every event of a namespace on your servers
 * into one gzip NDJSON file (written beside FILE, renamed when complete). Ctrl-C leaves no file, exit 130.
 */
import type { Command } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fmtCount } from '../../report/format.ts';
import { fmtBytes } from '../../runners/admin/format.ts';
import { UsageError } from '../errors.ts';
import { EXIT } from '../exit-codes.ts';
import { abortableOnSignals, addExternalServerOptions, checkExternalOptions, openExternalServers, progressPrinter, storeUrls, type ExternalCliOptions } from './streams.ts';

interface BackupCliOptions extends ExternalCliOptions {
  out?: string;
}

export function registerBackup(program: Command): void {
  const cmd = program
    .command('backup')
    .description('write every event of a namespace on your servers to a gzip NDJSON file (restore reads it into any backend)')
    .option('--out <file>', 'the backup file to write (e.g. backup.ndjson.gz); must not exist');
  addExternalServerOptions(cmd, 'the backend to back up').action(async (opts: BackupCliOptions) => {
    if (!opts.out) throw new UsageError('--out FILE is required: where to write the backup (e.g. --out backup.ndjson.gz)');
    const out = resolve(opts.out);
    if (existsSync(out)) throw new UsageError(`--out ${opts.out} exists: remove it or pick another name (a backup never overwrites a file)`);
    if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) throw new UsageError(`--out ${opts.out}: directory ${dirname(out)} does not exist`);
    const { backend, namespace } = checkExternalOptions(opts, 'backup');
    await using servers = await openExternalServers(opts, backend);
    const { runBackup } = await import('../../runners/backup/backup.ts');
    const started = Date.now();
    await abortableOnSignals(async (signal) => {
      try {
        const r = await runBackup({ backend, namespace, urls: storeUrls(servers), out, signal, onProgress: progressPrinter('backup') });
        const categories = Object.keys(r.header.counts.categories).length;
        process.stderr.write(
          `eventbench backup: ${fmtCount(r.events)} events of ${categories} categor${categories === 1 ? 'y' : 'ies'} from ${backend} namespace ${namespace} written to ${opts.out} (${fmtBytes(statSync(out).size)}) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
        );
      } catch (err) {
        if (!signal.aborted) throw err;
        process.stderr.write('eventbench backup: interrupted; no file was written\n');
        process.exitCode = EXIT.interrupted;
      }
    });
  });
}
