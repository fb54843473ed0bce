import { connect } from '@nats-io/transport-node';
import { jetstream, DeliverPolicy } from '@nats-io/jetstream';
import { jetStreamNames } from './src/store/jetstream/naming.ts';
const ns = process.argv[2]!; const url = process.env.NATS_URL!;
const names = jetStreamNames(ns);
const nc = await connect({ servers: url, noAsyncTraces: true }); const js = jetstream(nc);
const dec = new TextDecoder();
for (const mode of ['discard', 'retain', 'discard', 'retain', 'nodecode']) {
  const t0 = performance.now();
  const c = await js.consumers.get(names.categoryStream('adapter'), { filter_subjects: names.categoryFilter('adapter') });
  const it = await c.consume({ max_messages: 10000 });
  let n = 0; let out: unknown[] = []; let sink = 0;
  for await (const m of it) {
    if (mode === 'nodecode') sink += m.data.length;
    else { const e = JSON.parse(dec.decode(m.data)); if (mode === 'retain') { out.push(e); if (out.length === 10000) out = []; } else sink += e.version; }
    if (++n >= 50000) break;
  }
  await it.close();
  console.log(mode, Math.round(n / ((performance.now() - t0) / 1000)));
}
await nc.close();
