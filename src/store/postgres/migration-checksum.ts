/**
 * The checksum a migration is recorded with, and which recorded checksums still match a file.
 *
 * A comment is not a schema change, and neither is re-indenting or re-wrapping a statement: editing
 * either in an applied `sql/NNN_*.sql` must not make every existing store report `differs` on `init`.
 * So the checksum is the sha256 of the file's statements with every comment removed and every run of
 * whitespace collapsed to one space (`normalizeSql`). String literals, quoted identifiers and
 * dollar-quoted data are kept byte for byte: a change there changes what the server stores. A
 * dollar-quoted routine body (`CREATE FUNCTION ... AS $fn$ ... $fn$`, `DO $$ ... $$`) is normalised as
 * code, because PL/pgSQL and SQL bodies share SQL's comment syntax and a comment in one is still a comment.
 *
 * Releases before this rule recorded the sha256 of the whole file, comments included. Such a checksum
 * still matches when it is one of `PREVIOUS_RULE_CHECKSUMS` and the file it was taken of has the same
 * statements as today's (same normalised checksum); a real statement edit since then is `differs` for
 * those stores too.
 */
import { createHash } from 'node:crypto';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The checksum recorded for a migration file: statements only, comments and layout ignored. */
export function migrationChecksum(text: string): string {
  return sha256(normalizeSql(text));
}

/** The checksum releases before `migrationChecksum` recorded: the whole file, byte for byte. */
export function previousRuleChecksum(text: string): string {
  return sha256(text);
}

/**
 * Checksums recorded under the previous rule by released versions of each migration, each with the
 * `migrationChecksum` of that same file: `sql/*.sql` as of git commit bf7e661, the last revision before
 * their comments were rewritten to cite `docs/` (001 unchanged since 0fc95be, 002 since e3bcbab; the
 * versions before those differ in their statements, so a store holding one is `differs` under either rule).
 */
export const PREVIOUS_RULE_CHECKSUMS: Readonly<Record<string, readonly { recorded: string; statements: string }[]>> = {
  '001': [
    {
      recorded: '8d228a26e9d2f99e178b77323c53a45a96ed0e69e0dd98def20389bdeec2611f',
      statements: '743f53a17988f6b5eb8969ffd4b3992aa31974ecfd83b68311e31de7959c3398',
    },
  ],
  '002': [
    {
      recorded: '91efba32412087e6f2bc3b4730b384737a3690abc093ca805c7bd67b099112ee',
      statements: 'de73b6947962ca0a8da6992baf96a9cac9a6d39fe37bb84160c5f4b14972eaa5',
    },
  ],
};

/** Whether a store's recorded checksum for migration `version` matches the file now (`current`: its `migrationChecksum`). */
export function recordedChecksumMatches(version: string, recorded: string, current: string): boolean {
  if (recorded === current) return true;
  return (PREVIOUS_RULE_CHECKSUMS[version] ?? []).some((old) => old.recorded === recorded && old.statements === current);
}

const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
// A dollar-quoted string right after one of these keywords is a routine body, not data.
const BODY_KEYWORD = /(?:^|[^A-Za-z0-9_$])(?:AS|DO)$/i;

/**
 * `text` without comments, with each run of whitespace (and comments) between tokens turned into one
 * space, trimmed. Follows PostgreSQL's lexer where it matters for this: `--` to the end of the line,
 * nested block comments, '...' with '' (and backslash escapes in E'...'), "..." with "", and $tag$...$tag$.
 * Text the server would refuse (an unterminated literal or comment) is kept to the end as it is.
 */
export function normalizeSql(text: string): string {
  let out = '';
  let space = false;
  const emit = (piece: string) => {
    if (space && out.length > 0) out += ' ';
    space = false;
    out += piece;
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (/\s/.test(c)) {
      space = true;
      i++;
    } else if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      space = true;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < text.length && depth > 0) {
        if (text.startsWith('/*', i)) {
          depth++;
          i += 2;
        } else if (text.startsWith('*/', i)) {
          depth--;
          i += 2;
        } else {
          i++;
        }
      }
      space = true;
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(text[i - 1] ?? '') && !isIdentChar(text[i - 2]);
      let j = i + 1;
      while (j < text.length) {
        if (escapes && text[j] === '\\') {
          j += 2;
        } else if (text[j] === c) {
          if (text[j + 1] === c) j += 2;
          else break;
        } else {
          j++;
        }
      }
      emit(text.slice(i, j + 1));
      i = j + 1;
    } else if (c === '$' && !isIdentChar(text[i - 1]) && (DOLLAR_TAG.lastIndex = i, DOLLAR_TAG.test(text))) {
      const tag = text.slice(i, DOLLAR_TAG.lastIndex);
      const close = text.indexOf(tag, DOLLAR_TAG.lastIndex);
      if (close === -1) {
        emit(text.slice(i));
        break;
      }
      const body = text.slice(DOLLAR_TAG.lastIndex, close);
      emit(tag + (BODY_KEYWORD.test(out) ? normalizeSql(body) : body) + tag);
      i = close + tag.length;
    } else {
      emit(c);
      i++;
    }
  }
  return out;
}
