import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createJetStreamStore } from './src/store/jetstream/store.ts';
import { jetStreamNames } from './src/store/jetstream/naming.ts';
const kind = process.argv[2]!; const ns = process.argv[3]!; const url = process.env.NATS_URL!;
const names = jetStreamNames(ns);
const store = await createJetStreamStore({ natsUrl: url, namespace: ns });
const data = { case_id: 'case-1', citizen_bsn: '123456789', debt_amount: 1250.5, debt_type: 'cak', organization: 'CAK', priority: 'normal', notes: 'x'.repeat(700) };
const N = 50000;
if (kind === 'fill') {
  for (let i = 0; i < N; i += 500) await Promise.all(Array.from({ length: 500 }, (_, k) => store.appendToStream(`adapter-s${(i + k) % 1000}`, [{ id: `f${i + k}`, type: 'case.intake', data }])));
  await store.close(); process.exit(0);
}
const t0 = performance.now(); const c0 = process.cpuUsage(); let n = 0;
if (kind === 'adapter') {
  let from = 0;
  while (n < N) { const b = await store.readAll({ category: 'adapter', fromPosition: from, limit: 10000 }); if (!b.length) break; n += b.length; from = b[b.length - 1]!.position; }
} else {
  const nc = await connect({ servers: url, noAsyncTraces: true }); const js = jetstream(nc);
  const c = await js.consumers.get(names.categoryStream('adapter'), { filter_subjects: names.categoryFilter('adapter') });
  const it = await c.consume({ max_messages: 10000 }); let sink = 0;
  for await (const m of it) { sink += m.json<{ version: number }>().version; if (++n >= N) break; }
  await it.close(); await nc.close();
}
const c = process.cpuUsage(c0);
console.log(kind, Math.round(n / ((performance.now() - t0) / 1000)), 'cpu us/msg', ((c.user + c.system) / n).toFixed(2));
await store.close();
