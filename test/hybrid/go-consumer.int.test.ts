/**
 * The Go consumer (go/consumer, docs/hybrid.md §A consumer in Go), built offline with Debian's Go and
 * nats.go in GOPATH mode, reads what eventbench writes and validates every message against the schemas of
 * `eventbench schemas export` and per-subject version order: the jetstream backend's category streams
 * (case events, documents and uploads, filled by `eventbench generate`) and the hybrid relay's stream. A message that breaks its schema is
 * reported and fails the run, so the validation is shown to bite.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { hybridDescriptor } from '../../src/store/hybrid/descriptor.ts';
import { createHybridStore } from '../../src/store/hybrid/index.ts';
import { workloads } from '../../src/workloads/index.ts';
import { waitFor } from '../contract/event-store-contract.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { eventbench } from '../load/cli.ts';
import { dropSchema } from '../postgres/helpers.ts';
import { testNatsUrl, testPgUrl, uniqueName } from '../support/servers.ts';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'eventbench-go-'));
const binary = join(dir, 'eventbench-consumer');
const schemas = join(dir, 'schemas');
const ns = uniqueName('gocons');

interface Summary {
  stream: string;
  received: number;
  valid: number;
  invalid: number;
  orderViolations: number;
  subjects: number;
  types: string[];
  errors: string[];
}

beforeAll(async () => {
  // GOPATH mode, offline: nats.go and its dependencies come from Debian's /usr/share/gocode.
  await run('go', ['build', '-o', binary, './go/consumer'], {
    cwd: ROOT,
    env: { ...process.env, GOPATH: '/usr/share/gocode', GO111MODULE: 'off', GOFLAGS: '' },
    timeout: 180_000,
  });
  const exported = await eventbench(['schemas', 'export', '--out', schemas]);
  expect(exported.code, exported.stderr).toBe(0);
}, 240_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await deleteStreams(testNatsUrl(), `${ns}-`);
  await dropSchema(ns);
});

async function consume(stream: string, expectCode = 0): Promise<Summary> {
  const r = await run(binary, ['-url', testNatsUrl(), '-stream', stream, '-schemas', schemas, '-durable', uniqueName('go'), '-idle', '1s'], { timeout: 60_000 }).then(
    (ok) => ({ code: 0, stdout: ok.stdout, stderr: ok.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
  expect(r.code, `${stream}: ${r.stderr}${r.stdout}`).toBe(expectCode);
  return JSON.parse(r.stdout) as Summary;
}

async function messagesIn(stream: string): Promise<number> {
  const nc = await connect({ servers: testNatsUrl() });
  try {
    return (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

it('validates every message eventbench generate wrote to JetStream, and per-subject version order', async () => {
  const runs = [['debt-cases', '60'], ['documents', '100'], ['file-uploads', '40']] as const;
  // Three CLI runs at once (each writes its own category's stream): the CLI start dominates their time.
  const generated = await Promise.all(
    runs.map(([workload, count]) => eventbench(['generate', '--backend', 'jetstream', '--workload', workload, '--count', count, '--namespace', ns, '--nats-url', testNatsUrl(), '--json'], 120_000)),
  );
  for (const [i, [workload]] of runs.entries()) {
    expect(generated[i]!.code, `${workload}: ${generated[i]!.stderr}`).toBe(0);
    const stream = `${ns}-${workloads[workload].category}`;
    const summary = await consume(stream);
    expect(summary.received, `${stream}: every message read`).toBe(await messagesIn(stream));
    expect(summary.valid).toBe(summary.received);
    expect(summary.invalid).toBe(0);
    expect(summary.orderViolations).toBe(0);
    expect(summary.errors).toEqual([]);
  }
}, 240_000);

it('validates each message at the schema version it was written with (invoices-evolving: 1,000 at version 1, then 3)', async () => {
  const generated = await eventbench(['generate', '--backend', 'jetstream', '--workload', 'invoices-evolving', '--count', '1020', '--namespace', ns, '--nats-url', testNatsUrl(), '--json'], 120_000);
  expect(generated.code, generated.stderr).toBe(0);
  const stream = `${ns}-${workloads['invoices-evolving'].category}`;
  const summary = await consume(stream);
  expect(summary.received).toBe(1020);
  expect(summary.valid).toBe(1020);
  expect(summary.errors).toEqual([]);

  // The same version-1 body stamped as version 3 is refused, and a version no schema exists for.
  const nc = await connect({ servers: testNatsUrl() });
  const wrong = `${ns}-wrongversion`;
  try {
    await (await jetstreamManager(nc)).streams.add({ name: wrong, subjects: [`${ns}.wrongversion.*`] });
    const js = jetstream(nc);
    const payment = (version: number, schemaVersion: number) =>
      JSON.stringify({ id: `p${version}`, type: 'billing.payment.received', timestamp: '2026-01-01T00:00:00Z', correlationId: 'c', aggregateId: 'inv_1', aggregateType: 'Invoice', version, data: { invoiceNumber: 'INV-2026-000001', cents: 1500, receivedAt: '2026-01-01T00:00:00Z' }, metadata: { schemaVersion } });
    await js.publish(`${ns}.wrongversion.x`, payment(1, 1));
    await js.publish(`${ns}.wrongversion.x`, payment(2, 3));
    await js.publish(`${ns}.wrongversion.x`, payment(3, 9));
  } finally {
    await nc.close();
  }
  const checked = await consume(wrong, 1);
  expect([checked.received, checked.valid, checked.invalid]).toEqual([3, 1, 2]);
  expect(checked.errors[0]).toMatch(/seq 2: .*(cents|amount)/);
  expect(checked.errors[1]).toMatch(/seq 3: no schema for event type "billing.payment.received" at version 9/);
}, 240_000);

it('validates the hybrid relay\'s messages (with their PostgreSQL positions)', async () => {
  const store = await createHybridStore({ pgUrl: testPgUrl(), natsUrl: testNatsUrl(), namespace: ns, settings: hybridDescriptor.parseSettings({}) });
  try {
    await store.init();
    const generator = workloads.invoices.create({ seed: 3 });
    for (let i = 0; i < 50; i++) {
      const a = generator.next();
      await store.appendToStream(a.stream, a.events, { expectedVersion: a.expectedVersion });
    }
    await waitFor('relayed', async () => (await store.relayLag()).pending === 0, 15_000);
  } finally {
    await store.close();
  }
  const summary = await consume(`${ns}-_outbox`);
  expect(summary.received).toBe(await messagesIn(`${ns}-_outbox`));
  expect(summary.valid).toBe(summary.received);
  expect(summary.types.every((t) => t.startsWith('billing.invoice.'))).toBe(true);
}, 60_000);

it('reports a message that breaks its schema, and one out of version order, and fails', async () => {
  const nc = await connect({ servers: testNatsUrl() });
  const stream = `${ns}-broken`;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${ns}.broken.*`] });
    const js = jetstream(nc);
    const body = (version: number, amount: unknown) =>
      JSON.stringify({ id: `b${version}`, type: 'billing.invoice.paid', timestamp: '2026-01-01T00:00:00Z', correlationId: 'c', aggregateId: 'x', aggregateType: 'invoice', version, data: { invoiceNumber: 'INV-2026-000001', amount, paidAt: '2026-01-01T00:00:00Z', paymentMethod: 'ideal' }, metadata: {} });
    await js.publish(`${ns}.broken.x`, body(1, 'not a number'));
    await js.publish(`${ns}.broken.x`, body(3, 10));
  } finally {
    await nc.close();
  }
  const summary = await consume(stream, 1);
  expect(summary.received).toBe(2);
  expect(summary.invalid).toBe(1);
  expect(summary.errors[0]).toMatch(/seq 1: .*amount/);
  expect(summary.orderViolations).toBe(1);
  expect(summary.errors[1]).toMatch(/version 3 after 0/);
});
