/** Shared by the hybrid tests: a namespace per file (a PostgreSQL schema and JetStream streams), removed afterwards. */
import { dropSchema } from '../postgres/helpers.ts';
import { deleteStreams } from '../jetstream/helpers.ts';
import { testNatsUrl } from '../support/servers.ts';

export async function dropNamespace(namespace: string): Promise<void> {
  await Promise.allSettled([dropSchema(namespace), deleteStreams(testNatsUrl(), `${namespace}-`)]);
}
