/** `eventbench streams` output for people (tables, as `nats stream ls|info` prints them); `--json` prints the objects as they are. */
import type { NamespaceListing, RemovalResult, StreamDetail, StreamSummary } from '../../store/index.ts';
import { fmtCount } from '../../report/format.ts';
import { textTable } from '../../report/tables.ts';

const KIND: Record<StreamSummary['kind'], string> = { category: 'category', 'dead-letters': 'dead letters', relay: 'relay' };
const opt = (v: number | undefined): string => (v === undefined ? '-' : fmtCount(v));

/** Bytes for people: `812 B`, `1.4 MiB`. */
export function fmtBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}

export function formatListing(l: NamespaceListing): string {
  const out: string[] = [];
  if (l.streams.length === 0) {
    out.push(`${l.backend} namespace ${l.namespace}: no streams`);
  } else {
    const jetstream = l.streams.some((s) => s.subjects !== undefined);
    out.push(
      textTable({
        title: `${l.backend} namespace ${l.namespace}: ${l.streams.length} stream${l.streams.length === 1 ? '' : 's'}`,
        header: ['NAME', 'KIND', 'STREAMS', 'EVENTS', 'BYTES', 'FIRST', 'LAST', 'LAST VERSION', 'CONSUMERS', ...(jetstream ? ['REPLICAS', 'SUBJECTS'] : [])],
        rows: l.streams.map((s) => [
          s.name,
          KIND[s.kind],
          fmtCount(s.streams),
          fmtCount(s.events),
          fmtBytes(s.bytes),
          fmtCount(s.firstPosition),
          fmtCount(s.lastPosition),
          opt(s.lastVersion),
          fmtCount(s.consumers),
          ...(jetstream ? [opt(s.replicas), (s.subjects ?? []).join(',') || '-'] : []),
        ]),
        note: l.backend === 'jetstream' ? 'STREAMS: subjects with messages; FIRST / LAST: stream sequences' : 'STREAMS: stream ids with events; BYTES: the events\' rows (pg_column_size); FIRST / LAST: global positions',
      }),
    );
  }
  if (l.tables.length > 0) {
    out.push(
      '',
      textTable({
        title: `tables of schema ${l.namespace}`,
        header: ['TABLE', 'ROWS (estimate)', 'BYTES (with indexes)'],
        rows: l.tables.map((t) => [t.name, t.estimatedRows < 0 ? '-' : fmtCount(t.estimatedRows), fmtBytes(t.bytes)]),
      }),
    );
  }
  return `${out.join('\n')}\n`;
}

/** `  key               value`: one fact of `streams info`. */
const field = (key: string, value: string): string => `  ${key.padEnd(18)} ${value}`;

export function formatDetail(d: StreamDetail): string {
  const lines: string[] = [];
  if (d.eventStream) {
    const e = d.eventStream;
    lines.push(`event stream ${e.stream}:`, field('events', fmtCount(e.events)), field('last version', fmtCount(e.lastVersion)));
    lines.push(field('first position', fmtCount(e.firstPosition)), field('last position', fmtCount(e.lastPosition)));
    if (e.bytes !== undefined) lines.push(field('bytes', fmtBytes(e.bytes)));
  }
  if (d.summary) {
    const s = d.summary;
    lines.push(`${KIND[s.kind]} ${s.name}:`);
    const rows: [string, string][] = [
      ['streams', fmtCount(s.streams)],
      ['events', fmtCount(s.events)],
      ['bytes', fmtBytes(s.bytes)],
      ['first position', fmtCount(s.firstPosition)],
      ['last position', fmtCount(s.lastPosition)],
      ['last version', opt(s.lastVersion)],
      ['consumers', fmtCount(s.consumers)],
    ];
    if (s.subjects) rows.push(['subjects', s.subjects.join(', ')]);
    if (s.replicas !== undefined) rows.push(['replicas', String(s.replicas)]);
    if (s.storage !== undefined) rows.push(['storage', s.storage]);
    for (const [k, v] of rows) lines.push(field(k, v));
  }
  for (const [k, v] of Object.entries(d.detail)) {
    if (v === undefined) continue;
    lines.push(field(k, typeof v === 'object' ? JSON.stringify(v) : String(v)));
  }
  if (d.largest && d.largest.length > 0) {
    lines.push(
      '',
      textTable({
        title: 'largest event streams',
        header: ['STREAM', 'EVENTS', ...(d.largest.some((x) => x.lastVersion > 0) ? ['LAST VERSION'] : [])],
        rows: d.largest.map((x) => [x.stream, fmtCount(x.events), ...(x.lastVersion > 0 ? [fmtCount(x.lastVersion)] : [])]),
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

export function formatRemoval(verb: 'purged' | 'removed', r: RemovalResult): string {
  const extra = r.removed.length > 0 ? `; also removed: ${r.removed.join(', ')}` : '';
  return `${verb} ${r.name}: ${fmtCount(r.events)} event${r.events === 1 ? '' : 's'} deleted${extra}\n`;
}
