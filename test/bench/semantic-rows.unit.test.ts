/**
 * The semantic rows of the side-by-side table (transactions, ordering, idempotency window, queries, what an
 * ack means) come from each backend's recorded capabilities and server settings, never from text typed per
 * report: change a capability in a result and the row changes with it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadResultSchema, type LoadResult } from '../../src/report/load-result.ts';
import { formatSideBySide } from '../../src/report/load-summary.ts';
import { capabilityTable, queriesOf } from '../../src/report/tables.ts';

const fixture = (): LoadResult => loadResultSchema.parse(JSON.parse(readFileSync(new URL('../fixtures/results/bench-runs-v3.json', import.meta.url), 'utf8')));
/** The table row of `label`, its cells' padding squeezed to one space. */
const row = (text: string, label: string): string => text.split('\n').map((l) => l.replace(/\s*\|\s*/g, ' | ').trim()).find((l) => l.startsWith(`| ${label} |`)) ?? '';

describe('semantic rows of the side-by-side table', () => {
  it('fills transactions, ordering, idempotency window, queries and an ack means for every backend', () => {
    const text = formatSideBySide(fixture(), true)!;
    expect(row(text, 'transactions')).toMatch(/\| a multi-event append is atomic \| events of one append stored one by one \|/);
    expect(row(text, 'ordering')).toMatch(/\| one total order over all streams \| per stream only \|/);
    expect(row(text, 'idempotency window')).toMatch(/\| forever \| 120 s \|/);
    expect(row(text, 'queries')).toMatch(/\| SQL over the events table .*all streams in one order \| by stream \(subject\) and one category at a time from a sequence; nothing by content/);
    expect(row(text, 'an ack means')).not.toBe('');
    const caps = capabilityTable(fixture());
    expect(caps.rows.find((r) => r[0] === 'queries')?.slice(1)).toEqual(caps.header.slice(1).map((b) => queriesOf(b, fixture().backends.find((x) => x.backend === b)!.capabilities)));
  });

  it('a row follows the recorded capability, not the backend\'s name alone', () => {
    const r = fixture();
    for (const b of r.backends) if (b.backend === 'jetstream' && b.capabilities) b.capabilities = { ...b.capabilities, globalOrder: true, atomicMultiAppend: true };
    const text = formatSideBySide(r, true)!;
    expect(row(text, 'queries')).toMatch(/\| by stream \(subject\) and all streams in one order from a sequence/);
    expect(row(text, 'transactions')).toMatch(/\| a multi-event append is atomic \| a multi-event append is atomic \|/);
    expect(queriesOf('memory', { globalOrder: true })).toBe('by stream and all streams in one order, in this process only');
  });
});
