/**
 * Bolt reads a PostgreSQL statement's text before the server does (adapters/postgres/
 * placeholders.ts): each `?` outside literals, quoted names and comments becomes `$n`, and a
 * statement starting with transaction control is refused. Where that reading differs from the
 * server's lexer, a `?` inside a string is replaced (the value written changes), a placeholder
 * is missed, or a COMMIT reaches the server. This compares the two readings on random texts
 * (test/helpers/pg-texts.ts), with the server as the judge:
 *
 * - A SELECT with `?` placeholders runs through Bolt with a distinct value for each. The server
 *   reads the same text with each `?` written as ` $1nn ` (a parameter where the server sees
 *   code, text where it sees a literal), run with raw `pg`. Both must fail, or return the same
 *   names and values (` $1nn ` in a literal read back as the `?` it stood for).
 * - A script of several statements without placeholders runs on the server as it is; whatever
 *   the server ran as transaction control (by its command tags) Bolt must refuse before
 *   anything runs, and it must refuse nothing else the server ran.
 *
 * Seeded, so every run reads the same texts; a text the server rejects may be refused by Bolt
 * in any typed way. BOLT_FUZZ_SEED and BOLT_FUZZ_TEXTS run other and more texts (a longer fuzz).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openPostgres } from '../adapters/postgres/open.js';
import { rewritePlaceholders } from '../adapters/postgres/placeholders.js';
import { pgTypes } from '../adapters/postgres/types.js';
import type { Database, Row } from '../core/database.js';
import { BoltError, hasCode } from '../core/errors.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';
import { textMaker } from './helpers/pg-texts.js';

const PLACEHOLDER_TEXTS = Number(process.env.BOLT_FUZZ_TEXTS ?? 2000);
const SCRIPT_TEXTS = Number(process.env.BOLT_FUZZ_TEXTS ?? 2500);
const SEED = Number(process.env.BOLT_FUZZ_SEED ?? 20260314);
/** The server's text numbers the n-th `?` `$1nn`: no generated text holds such a number. */
const MARK = 100;
/** Command tags (their first word, as `pg` reports them) of transaction control. */
const CONTROL_TAGS = new Set(['BEGIN', 'START', 'COMMIT', 'ROLLBACK', 'SAVEPOINT', 'RELEASE', 'PREPARE']);

/** Texts this fuzz found read differently, each once (read first, before the random ones). */
const KNOWN_PLACEHOLDER = [
  // An E'' string continued after a line break: its `\'` and `?` are text (Bolt replaced a `?` there).
  "SELECT E'\\'\\047$a$'\r\n'\\?\\u00e9\\'\\?' c1,/*\";\nend\n*/e'\\x41\\'' AS c2,/*\";\nend\n*/b'01' \n\t'1'/*\"*/AS c3,/*\";\nend\n*/1 AS \"c4\" ;",
  "SELECT E'a'\n'\\'?' AS c1, ? AS c2",
  // `$n` glued to the name after it (PostgreSQL 15: trailing junk after parameter).
  '/*$a$*/SELECT ?||?AS "c1;", 12 AS c2U',
  "SELECT--\\?\r?字c1,/*'*/?||? AS c2\u200b;",
  // A nested comment holding `--`: a statement to the server, none to Bolt's empty-text check.
  '/* /**/--\\" */SELECT E\'"\' AS/*\\?\\*/"c1--  ", E\'\\\\\\n\\u00e9\' AS "c2é"',
];
const KNOWN_SCRIPT = [
  // E'' strings continued after a line break hid a COMMIT and a BEGIN.
  "SELECT\t'' AS/*'*/c1é, e''\r'\\x41' AS c2$, $_1$''''\\\\$_1$ AS/*'*/c3$x ; SELECT E'\\u00e9\\\\\\047\"' -- x\r\n '\\'\\n' AS c1, $ж$$ж$ AS c2E ; --''\\\\\nend",
  "SELECT 12/* /*\\?''*/ */AS/*'*/c1E, E'\\'' \f\n\f';\\''\r\n'/\"'AS/*\"\"/''*/c2$1 ;; BEGIN ;; SELECT\nx''--''\\\nAS \"c1$a$\"\"$a$\"",
  // A comment between START and TRANSACTION.
  "SELECT x'1F'/*$a$*/AS c1$1,\ntext '\\\\' \f\n\f'\"\r\\*/'c2\r\n;; START/**/TRANSACTION;",
  // An empty BEGIN ATOMIC body, and `begin atomic` naming an argument: the END after them is COMMIT.
  'CREATE OR REPLACE PROCEDURE pg_temp.pz() LANGUAGE sql BEGIN ATOMIC END ; --"\\\\\nEND/* /*\\\\?*/\\ */TRANSACTION',
  'CREATE OR REPLACE FUNCTION pg_temp.fz(begin atomic) RETURNS int LANGUAGE sql RETURN 1; END',
];

interface Reading {
  ok: boolean;
  rows?: Row[];
  error?: string;
}

/** The text the server reads: the n-th `?` written ` $1nn `. */
function serverText(text: string): { sql: string; marks: number } {
  let marks = 0;
  const sql = text.replace(/\?/g, () => ` $${MARK + ++marks} `);
  assert.ok(marks < 100, 'a text of at most 99 `?`, each marked $1nn');
  return { sql, marks };
}

/** A literal's ` $1nn ` read back as the `?` it stood for. */
const unmark = (s: unknown): unknown => (typeof s === 'string' ? s.replace(/ \$1\d\d /g, '?') : s);

/** Which `?` of `text` (1-based, counting every `?`) Bolt's rewrite `sql` made placeholders, in order. */
function replacedMarks(text: string, sql: string): number[] {
  const out: number[] = [];
  let k = 0;
  let p = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '?') k++;
    // `$n`, maybe set apart from a name next to it by a space each side.
    const at = c === '?' && sql[p] === ' ' && sql[p + 1] === '$' ? p + 1 : p;
    if (c === '?' && sql[at] === '$') {
      out.push(k);
      p = at + 1;
      while (/\d/.test(sql[p] ?? '')) p++;
      if (sql[p] === ' ' && text[i + 1] !== ' ') p++;
    } else if (sql[p] === c) p++;
    else throw new Error(`the rewrite changed more than placeholders: ${JSON.stringify(text)} → ${JSON.stringify(sql)}`);
  }
  return out;
}

async function serverReads(client: pg.Client, text: string): Promise<Reading> {
  const { sql, marks } = serverText(text);
  const parsers = pgTypes();
  // Every parameter declared text, so that one the server reads inside a literal is no error.
  const types = Object.assign(new Array<number>(MARK + marks).fill(25), { getTypeParser: parsers.getTypeParser.bind(parsers) });
  const values = Array.from({ length: MARK + marks }, (_, i) => (i < MARK ? null : `v${i - MARK + 1}`));
  try {
    const r = await client.query({ text: sql, values, types, rowMode: 'array' } as unknown as pg.QueryConfig);
    const rows = (r.rows as unknown[][]).map((values) => {
      const row: Row = {};
      r.fields.forEach((f, i) => (row[unmark(f.name) as string] = unmark(values[i])));
      return row;
    });
    return { ok: true, rows };
  } catch (e) {
    return { ok: false, error: `${(e as { code?: string }).code}: ${(e as Error).message}` };
  }
}

async function boltReads(db: Database, text: string): Promise<Reading> {
  const { sql } = rewritePlaceholders(text);
  let params: string[];
  try {
    params = replacedMarks(text, sql).map((k) => `v${k}`);
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
  try {
    return { ok: true, rows: await db.query(text, params) };
  } catch (e) {
    if (!(e instanceof BoltError)) return { ok: false, error: `untyped: ${String(e)}` };
    return { ok: false, error: `${e.code}: ${e.message}` };
  }
}

/** A plain `pg` client on `url`, ended after the test; the server's answers are the reference. */
async function rawClient(t: TestContext, url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // The database is dropped (WITH FORCE) before this client ends: its goodbye is no failure.
  client.on('error', () => undefined);
  await client.connect();
  t.after(() => client.end());
  return client;
}

test('a `?` is a placeholder where the server reads code and text where it reads a literal [postgres]', { timeout: 120_000, skip: PG_SKIP }, async (t) => {
  const { tcp, socket } = await freshPgDatabase(t, 'bolt_reading');
  // A U&"…" alias counts as changing the session, so Bolt closes that client: reconnect over the socket.
  const db = await openPostgres(socket, { maxConnections: 2 });
  t.after(() => db.close());
  const client = await rawClient(t, tcp);
  const next = textMaker(SEED);
  const differ: unknown[] = [];
  let both = 0;
  for (let i = 0; i < KNOWN_PLACEHOLDER.length + PLACEHOLDER_TEXTS; i++) {
    const text = KNOWN_PLACEHOLDER[i] ?? next.placeholderText();
    const server = await serverReads(client, text);
    const bolt = await boltReads(db, text);
    if (bolt.error?.startsWith('untyped') || bolt.error?.startsWith('the rewrite')) differ.push({ text, bolt: bolt.error });
    else if (!server.ok && !bolt.ok) continue;
    else if (server.ok && bolt.ok) {
      both++;
      try {
        assert.deepEqual(bolt.rows, server.rows);
      } catch {
        differ.push({ text, bolt: bolt.rows, server: server.rows });
      }
    } else differ.push({ text, bolt: bolt.ok ? bolt.rows : bolt.error, server: server.ok ? server.rows : server.error });
  }
  assert.ok(both > PLACEHOLDER_TEXTS / 4, `only ${both} of ${PLACEHOLDER_TEXTS} texts were read by the server: the generator no longer makes SQL`);
  assert.deepEqual(differ.slice(0, 5), []);
});

test('whatever the server would run as transaction control, Bolt refuses before anything runs [postgres]', { timeout: 120_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t, 'bolt_reading');
  const db = await openPostgres(tcp, { maxConnections: 1 });
  t.after(() => db.close());
  const client = await rawClient(t, tcp);
  // The type of the functions' `begin atomic` arguments (test/helpers/pg-texts.ts).
  await client.query('CREATE DOMAIN pg_temp.atomic AS integer');
  const next = textMaker(SEED + 1);
  const differ: unknown[] = [];
  let ran = 0;
  // The tag of each statement the server ran, also those before one that failed.
  let tags: string[] = [];
  client.connection.on('commandComplete', (m: { text: string }) => tags.push(m.text));
  for (let i = 0; i < KNOWN_SCRIPT.length + SCRIPT_TEXTS; i++) {
    const text = KNOWN_SCRIPT[i] ?? next.scriptText();
    tags = [];
    const error = await client.query(text).then(
      () => undefined,
      (e: { code?: string }) => String(e.code),
    );
    const commands = [...tags];
    await client.query('ROLLBACK');
    if (!error) ran++;
    const serverControl = commands.some((c) => CONTROL_TAGS.has(c.split(' ')[0]!));
    const bolt = rewritePlaceholders(text);
    // A text the server refused may be refused by Bolt for anything; one it ran must be read as the server read it.
    if (serverControl ? !bolt.control : !error && (bolt.control || bolt.count !== 0 || bolt.sql !== text)) {
      differ.push({ text, bolt, server: error ? [...commands, error] : commands });
    }
    if (serverControl) {
      const refused = await db.execute(text).then(
        () => false,
        (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'),
      );
      if (!refused) differ.push({ text, bolt: 'ran it', server: commands });
    }
  }
  assert.ok(ran > SCRIPT_TEXTS / 4, `only ${ran} of ${SCRIPT_TEXTS} texts were run by the server: the generator no longer makes SQL`);
  assert.deepEqual(differ.slice(0, 5), []);
});
