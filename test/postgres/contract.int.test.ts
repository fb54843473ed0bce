/**
 * The shared EventStore contract, unchanged, against the PostgreSQL adapter on the test server (managed
 * embedded PostgreSQL 18, or PG 15 with EVENTBENCH_PG=system / PG_URL). Every open() is a new store
 * (own pool) on one schema: two stores behave like two processes.
 */
import { createPostgresStore, POSTGRES_CAPABILITIES } from '../../src/store/postgres/index.ts';
import { runEventStoreContract } from '../contract/event-store-contract.ts';
import { testPgUrl, uniqueName } from '../support/servers.ts';
import { dropSchema } from './helpers.ts';

const schema = uniqueName('pgc');

runEventStoreContract(
  'postgres',
  {
    open: () => createPostgresStore({ pgUrl: testPgUrl(), schema, poolSize: 4 }),
    cleanup: () => dropSchema(schema),
  },
  POSTGRES_CAPABILITIES,
);
