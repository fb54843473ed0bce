/**
 * Removes what a benchmark's namespace created on servers it did not start (managed servers go away with
 * their data): the PostgreSQL schema `<ns>` and the JetStream streams `<ns>-*` (src/store/jetstream/
 * naming.ts). Used by bench/serve.ts and bench/case-pipeline.ts.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';

export async function dropNamespace(ns: string, urls: { pgUrl?: string | undefined; natsUrl?: string | undefined }): Promise<void> {
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(ns)) throw new Error(`not a namespace: ${JSON.stringify(ns)}`);
  if (urls.pgUrl) {
    const client = new pg.Client({ connectionString: urls.pgUrl });
    await client.connect();
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${ns}" CASCADE`);
    } finally {
      await client.end();
    }
  }
  if (urls.natsUrl) {
    const nc = await connect({ servers: urls.natsUrl });
    try {
      const jsm = await jetstreamManager(nc);
      const names: string[] = [];
      for await (const si of jsm.streams.list()) if (si.config.name.startsWith(`${ns}-`)) names.push(si.config.name);
      for (const name of names) await jsm.streams.delete(name);
    } finally {
      await nc.close();
    }
  }
}
