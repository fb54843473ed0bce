/**
 * A named prepared statement whose parameters have names: the SQL is written with `p.claimId` instead of
 * a hand-counted `$7`, the numbers are given once (in the order of `params`), and `query({...})` builds
 * the `pg` query config with the values in that order. Named, so each connection parses and plans it once.
 */
import { createHash } from 'node:crypto';

export interface NamedStatement<K extends string> {
  readonly name: string;
  readonly text: string;
  /** The `pg` query config for these parameter values (every parameter must be given; null is a value). */
  query(values: Record<K, unknown>): { name: string; text: string; values: unknown[] };
}

/** `build` gets each parameter's placeholder (`$1`, `$2`, ... in the order of `params`) and returns the SQL. */
export function namedStatement<const K extends string>(prefix: string, params: readonly K[], build: (p: Record<K, string>) => string): NamedStatement<K> {
  const placeholders = Object.fromEntries(params.map((k, i) => [k, `$${i + 1}`])) as Record<K, string>;
  const text = build(placeholders);
  // The text's hash in the name: another schema (or another version of the SQL) is another statement.
  const name = `${prefix}_${createHash('sha1').update(text).digest('hex').slice(0, 12)}`;
  return {
    name,
    text,
    query: (values) => {
      const list: unknown[] = new Array(params.length);
      for (let i = 0; i < params.length; i++) list[i] = values[params[i]!];
      return { name, text, values: list };
    },
  };
}
