import { connect } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { jetStreamNames } from './src/store/jetstream/naming.ts';
const ns = process.argv[2]!; const url = process.env.NATS_URL!;
const names = jetStreamNames(ns);
const nc = await connect({ servers: url, noAsyncTraces: true }); const js = jetstream(nc);
for (const start of [1, 10001, 20001]) {
  const t0 = performance.now();
  const c = await js.consumers.get(names.categoryStream('adapter'), { filter_subjects: names.categoryFilter('adapter'), deliver_policy: start > 1 ? DeliverPolicy.StartSequence : DeliverPolicy.All, ...(start > 1 ? { opt_start_seq: start } : {}) });
  const t1 = performance.now();
  const it = await c.consume({ max_messages: 10000 });
  let n = 0, tf = 0; const out: unknown[] = [];
  for await (const m of it) { if (!n) tf = performance.now(); out.push(JSON.parse(new TextDecoder().decode(m.data))); if (++n >= 10000 || m.info.pending === 0) break; }
  const t2 = performance.now();
  await it.close();
  const t3 = performance.now();
  console.log(`get ${(t1 - t0).toFixed(1)} first ${(tf - t1).toFixed(1)} consume ${(t2 - tf).toFixed(1)} close ${(t3 - t2).toFixed(1)} ms`);
}
await nc.close();
