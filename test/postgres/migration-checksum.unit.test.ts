/**
 * The statement text a migration checksum is taken of: comments and whitespace runs go, literals stay
 * byte for byte. (Against a real server: migrations.int.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { PREVIOUS_RULE_CHECKSUMS, migrationChecksum, normalizeSql, recordedChecksumMatches } from '../../src/store/postgres/migration-checksum.ts';
import { loadMigrations } from '../../src/store/postgres/migrations.ts';

describe('normalizeSql', () => {
  it('drops line and (nested) block comments and collapses whitespace', () => {
    expect(normalizeSql('-- head\nCREATE  TABLE t (\n  a int, -- why\n  /* x /* nested */ y */ b int\n);\n')).toBe('CREATE TABLE t ( a int, b int );');
  });

  it('keeps string literals, E-strings, quoted identifiers and dollar-quoted data exactly', () => {
    const text = `SELECT 'a  --b', 'it''s  /*x*/', E'q\\'  --r', "col  --""x", $$ d  -- e $$, $t$ f  /* g */ $t$;`;
    expect(normalizeSql(text)).toBe(text);
  });

  it('normalises a routine body (AS $fn$ / DO $$) as code, its own literals kept', () => {
    expect(normalizeSql("CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$\nBEGIN\n  -- why\n  RAISE NOTICE 'a  -- b';\n  RETURN 1;\nEND\n$fn$;")).toBe(
      "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$BEGIN RAISE NOTICE 'a  -- b'; RETURN 1; END$fn$;",
    );
    expect(normalizeSql('DO $$ BEGIN /* c */ NULL; END $$')).toBe('DO $$BEGIN NULL; END$$');
  });

  it('does not take $ inside identifiers or positional parameters for a dollar quote', () => {
    expect(normalizeSql('SELECT a$b$c, $1  ,  $2 -- x\n')).toBe('SELECT a$b$c, $1 , $2');
  });

  it('a statement change changes the checksum; a comment change does not', () => {
    const base = 'CREATE TABLE t (a int CHECK (a > 0)); -- note';
    expect(migrationChecksum(base.replace('note', 'other note'))).toBe(migrationChecksum(base));
    expect(migrationChecksum(base.replace('a > 0', 'a >= 0'))).not.toBe(migrationChecksum(base));
  });
});

describe('previous-rule checksums', () => {
  it('today\'s sql/ files have the statements of the release that recorded them, so those stores are unchanged', () => {
    for (const m of loadMigrations()) {
      const old = PREVIOUS_RULE_CHECKSUMS[m.version];
      expect(old, m.version).toBeDefined();
      for (const o of old!) expect(recordedChecksumMatches(m.version, o.recorded, m.checksum), m.version).toBe(true);
    }
  });

  it('a previous-rule checksum does not match a file whose statements changed since', () => {
    const [o] = PREVIOUS_RULE_CHECKSUMS['001']!;
    expect(recordedChecksumMatches('001', o!.recorded, migrationChecksum('CREATE TABLE x (a int);'))).toBe(false);
    expect(recordedChecksumMatches('002', o!.recorded, o!.statements)).toBe(false);
  });
});
