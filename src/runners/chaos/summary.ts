/**
 * How a chaos verdict reads for a person: one table per backend (every count, the event ids behind every
 * non-zero one, the time to recover), the broken expectations with their evidence, and what these faults
 * cannot show. The same text goes to the terminal and to `summary.md`.
 */
import type { ChaosRunResult } from './run-result.ts';
import type { Verdict } from './verdict.ts';

/** Printed in every chaos report, terminal and files. */
export const LIMITATIONS =
  'What these faults cannot show: an OS crash or a power loss. A SIGKILL leaves the page cache intact, so data ' +
  'written but not yet fsynced survives it. nats-server 2.9 acknowledges a JetStream publish before fsync (its ' +
  'file store is fsynced every 60 s in the background), so an OS crash or power loss can lose acknowledged ' +
  "events there; Jepsen's NATS 2.12.1 analysis (December 2025) lost acknowledged writes that way. A PostgreSQL " +
  'commit with fsync=on and synchronous_commit=on is on disk before it is acknowledged.';

const IDS_SHOWN = 10;

interface Row {
  name: string;
  count: number;
  ids: unknown[];
}

function rows(v: Verdict): Row[] {
  const e = (name: string, x: { count: number; ids: string[] }): Row => ({ name, count: x.count, ids: x.ids });
  return [
    { name: 'attempted', count: v.attempted, ids: [] },
    { name: 'acked', count: v.acked, ids: [] },
    { name: 'read', count: v.read, ids: [] },
    e('lost', v.lost),
    e('  lost prefix', v.lostPrefix),
    e('  lost middle', v.lostMiddle),
    e('  lost postfix', v.lostPostfix),
    e('unknown', v.unknown),
    e('recovered', v.recovered),
    e('  failed but stored', v.failedButStored),
    e('unexpected', v.unexpected),
    e('duplicates', v.duplicates),
    e('duplicate effects', v.duplicateEffects),
    { name: 'version gaps', count: v.versionGaps.count, ids: v.versionGaps.gaps },
    { name: 'order violations', count: v.orderViolations.count, ids: v.orderViolations.violations },
    { name: 'wrong versions', count: v.wrongVersions.count, ids: v.wrongVersions.events },
    e('unprocessed', v.unprocessed),
    { name: 'deliveries / effects', count: v.deliveries, ids: [] },
  ];
}

function show(x: unknown): string {
  return typeof x === 'string' ? x : JSON.stringify(x);
}

export function formatRecovery(v: Verdict): string {
  if (v.faults.length === 0) return 'no faults';
  return v.faults
    .map((f) => `${f.fault}: ${f.stopNs === null ? 'never ended' : f.timeToRecoverNs === null ? 'NEVER recovered' : `${(f.timeToRecoverNs / 1e6).toFixed(0)} ms`}`)
    .join(', ');
}

export function verdictLine(r: ChaosRunResult): string {
  if (r.interrupted) return 'INTERRUPTED (partial verdict)';
  return r.broken.length === 0 ? 'PASS' : `FAIL (${r.broken.length} expectation${r.broken.length === 1 ? '' : 's'} broken)`;
}

/** One backend's result as text (`terminal`) or Markdown. */
export function formatBackendSummary(r: ChaosRunResult, style: 'terminal' | 'markdown'): string {
  const v = r.verdict;
  const out: string[] = [];
  const md = style === 'markdown';
  out.push(md ? `## chaos ${r.scenario} on ${r.backend}: ${verdictLine(r)}` : `chaos ${r.scenario} on ${r.backend}: ${verdictLine(r)}`);
  out.push('');
  out.push(
    `writers: ${r.writers.ok} ok, ${r.writers.fail} fail, ${r.writers.info} info (unknown outcome)${r.writers.unsettled ? `, ${r.writers.unsettled} never settled` : ''}; ` +
      `load ${(r.loadMs / 1000).toFixed(1)} s; drain ${r.drained === null ? 'skipped' : r.drained ? 'complete' : 'TIMED OUT'}; run ${r.runId}, namespace ${r.namespace}`,
  );
  if (r.faultError) out.push(`fault error: ${r.faultError}`);
  out.push('');
  if (md) out.push('| count | value | event ids (first ' + IDS_SHOWN + ') |', '|---|---:|---|');
  for (const row of rows(v)) {
    const ids = row.count > 0 && row.ids.length > 0 ? row.ids.slice(0, IDS_SHOWN).map(show).join(', ') + (row.count > IDS_SHOWN ? ', ...' : '') : '';
    out.push(md ? `| ${row.name.trim()} | ${row.count} | ${ids} |` : `  ${row.name.padEnd(22)} ${String(row.count).padStart(8)}  ${ids}`);
  }
  out.push(md ? `| time to recover | | ${formatRecovery(v)} |` : `  ${'time to recover'.padEnd(22)} ${formatRecovery(v)}`);
  if (r.broken.length > 0) {
    out.push('', md ? '**Broken expectations**' : 'Broken expectations:');
    for (const b of r.broken) out.push(`${md ? '- ' : '  '}${b.message}`);
  }
  out.push('');
  return `${out.join('\n')}\n`;
}
