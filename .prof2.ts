import { connect, headers } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { createJetStreamStore, VERSION_HEADER } from './src/store/jetstream/store.ts';
import { jetStreamNames } from './src/store/jetstream/naming.ts';
const kind = process.argv[2]!;
const url = process.env.NATS_URL!; const ns = 'prof_' + kind + Date.now();
const names = jetStreamNames(ns);
const store = await createJetStreamStore({ natsUrl: url, namespace: ns });
await store.appendToStream('raw-x', [{ id: 'x1', type: 'a.b', data: {} }]);
await store.appendToStream('adapter-x', [{ id: 'x2', type: 'a.b', data: {} }]);
const nc = await connect({ servers: url, noAsyncTraces: true }); const js = jetstream(nc);
const data = { case_id: 'case-1', citizen_bsn: '123456789', debt_amount: 1250.5, debt_type: 'cak', organization: 'CAK', priority: 'normal', notes: 'x'.repeat(700) };
const S = 10000, W = 256;
const subj = Array.from({ length: S }, (_, s) => names.subject('raw', `s${s}`));
const vers = new Int32Array(S), seqs = new Float64Array(S), avers = new Int32Array(S);
async function run(from: number, n: number) {
  let next = from; const end = from + n; const t0 = performance.now(); const c0 = process.cpuUsage();
  await Promise.all(Array.from({ length: W }, async () => { while (next < end) { const i = next++; const s = i % S;
    if (kind === 'raw') { const v = vers[s]! + 1; const env = { id: `r${i}`, type: 'case.intake', timestamp: new Date().toISOString(), correlationId: `r${i}`, aggregateId: `s${s}`, aggregateType: 'raw', version: v, data, metadata: {} };
      const h = headers(); h.set(VERSION_HEADER, String(v));
      const a = await js.publish(subj[s]!, JSON.stringify(env), { msgID: `r${i}`, headers: h, expect: { lastSubjectSequence: seqs[s]! } }); seqs[s] = a.seq; vers[s] = v; }
    else { const r = await store.appendToStream(`adapter-s${s}`, [{ id: `a${i}`, type: 'case.intake', data }], { expectedVersion: avers[s]! }); avers[s] = r.streamVersion; }
  } }));
  const c = process.cpuUsage(c0);
  return { rate: Math.round(n / ((performance.now() - t0) / 1000)), cpuUsPerOp: ((c.user + c.system) / n).toFixed(1) };
}
await run(0, S);
for (let r = 0; r < 3; r++) console.log(kind, JSON.stringify(await run(S + r * 20000, 20000)));
await store.close(); await nc.close();
const nc2 = await connect({ servers: url }); const jsm = await jetstreamManager(nc2);
for (const n of [`${ns}-raw`, `${ns}-adapter`, `${ns}-_deadletters`]) await jsm.streams.delete(n).catch(() => {});
await nc2.close();
