import { connect, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createJetStreamStore, VERSION_HEADER } from './src/store/jetstream/store.ts';
import { jetStreamNames } from './src/store/jetstream/naming.ts';
const url = process.env.NATS_URL!; const ns = 'prof_' + Date.now();
const names = jetStreamNames(ns);
const store = await createJetStreamStore({ natsUrl: url, namespace: ns });
await store.appendToStream('raw-x', [{ id: 'x1', type: 'a.b', data: {} }]);
await store.appendToStream('adapter-x', [{ id: 'x2', type: 'a.b', data: {} }]);
const nc = await connect({ servers: url }); const js = jetstream(nc);
const data = { case_id: 'case-1', citizen_bsn: '123456789', debt_amount: 1250.5, debt_type: 'cak', organization: 'CAK', priority: 'normal', notes: 'x'.repeat(700) };
const S = 10000, W = 256;
const vers = new Int32Array(S), seqs = new Float64Array(S), avers = new Int32Array(S);
async function run(kind: string, from: number, n: number) {
  let next = from; const end = from + n; const t0 = performance.now();
  await Promise.all(Array.from({ length: W }, async () => { while (next < end) { const i = next++; const s = i % S;
    if (kind === 'raw') { const v = vers[s]! + 1; const env = { id: `r${i}`, type: 'case.intake', timestamp: new Date().toISOString(), correlationId: `r${i}`, aggregateId: `s${s}`, aggregateType: 'raw', version: v, data, metadata: {} };
      const h = headers(); h.set(VERSION_HEADER, String(v));
      const a = await js.publish(names.subject('raw', `s${s}`), JSON.stringify(env), { msgID: `r${i}`, headers: h, expect: { lastSubjectSequence: seqs[s]! } }); seqs[s] = a.seq; vers[s] = v; }
    else { const r = await store.appendToStream(`adapter-s${s}`, [{ id: `a${i}`, type: 'case.intake', data }], { expectedVersion: avers[s]! }); avers[s] = r.streamVersion; }
  } }));
  return Math.round(n / ((performance.now() - t0) / 1000));
}
let off = 0;
for (const k of ['raw', 'adapter']) { await run(k, off, S); off += S; } // warm
for (let r = 0; r < 3; r++) for (const k of (r % 2 ? ['adapter', 'raw'] : ['raw', 'adapter'])) { console.log(k, await run(k, off, 20000)); off += 20000; }
await store.close(); await nc.close();
const nc2 = await connect({ servers: url }); const jsm = await jetstreamManager(nc2);
for (const n of [`${ns}-raw`, `${ns}-adapter`, `${ns}-_deadletters`]) await jsm.streams.delete(n).catch(() => {});
await nc2.close();
