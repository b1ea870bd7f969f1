/**
 * The soak's invariants, checked after every process has stopped, on a clean reopen.
 */
import type { Database } from '../../core/database.js';
import { readJournals } from './soak-journal.js';
import { SOAK_ACCOUNTS, SOAK_START_BALANCE } from './soak-schema.js';
import type { InvariantResult } from './soak-result.js';
import { BAD_ID_PREFIX, type BadWriteOutcome } from './bad-writes.js';

function sample(ids: Iterable<string>, n = 5): string {
  const out = [...ids].slice(0, n);
  return out.length ? ` e.g. ${out.join(', ')}` : '';
}

/** Checks every invariant; each result says what was counted. */
export async function verifySoak(
  db: Database,
  dir: string,
  lockErrors: number,
  /** SIGKILLs per process index: each may have left one increment applied but never acknowledged. */
  killsByProc: ReadonlyMap<number, number>,
  /** The bad-writes fault ran: check that every bad write was refused and wrote nothing. */
  badWrites = false,
): Promise<InvariantResult[]> {
  const results: InvariantResult[] = [];
  const uncertain = readJournals(dir, 'uncertain');
  const uncertainIds = new Set(uncertain.map(([, id]) => id!));

  // Ledger: every acknowledged id present exactly once; no id present twice.
  const acked = new Set(readJournals(dir, 'ledger').map(([id]) => id!));
  const rows = await db.query<{ id: string; n: unknown }>('SELECT id, COUNT(*) AS n FROM soak_ledger GROUP BY id');
  const present = new Map(rows.map((r) => [r.id, Number(r.n)]));
  const missing = [...acked].filter((id) => !present.has(id));
  const doubled = [...present].filter(([, n]) => n > 1).map(([id]) => id);
  const unexplained = [...present.keys()].filter((id) => !acked.has(id) && !uncertainIds.has(id));
  results.push({
    name: 'every acknowledged ledger id is present exactly once',
    pass: missing.length === 0 && doubled.length === 0,
    detail: `${acked.size} acknowledged, ${present.size} distinct present, ${missing.length} missing${sample(missing)}, ${doubled.length} present twice${sample(doubled)}; ${unexplained.length} present but never acknowledged (outcome unknown to their writer)`,
  });

  // Bank: the total never changes; no account negative.
  const bank = await db.query<{ total: unknown; low: unknown; n: unknown }>(
    'SELECT SUM(balance) AS total, MIN(balance) AS low, COUNT(*) AS n FROM soak_accounts',
  );
  const total = Number(bank[0]?.total ?? 0);
  const low = Number(bank[0]?.low ?? 0);
  const expected = SOAK_ACCOUNTS * SOAK_START_BALANCE;
  results.push({
    name: 'bank total equals the starting total and no account is negative',
    pass: total === expected && low >= 0 && Number(bank[0]?.n) === SOAK_ACCOUNTS,
    detail: `total ${total} (expected ${expected}), lowest balance ${low}, ${Number(bank[0]?.n)} accounts`,
  });

  // Counters: each process's counter equals its acknowledged increments (plus at most its uncertain ones).
  const counterAcks = new Map<number, number>();
  for (const [id] of readJournals(dir, 'counter')) {
    const proc = Number(id!.slice(1).split('.')[0]);
    counterAcks.set(proc, (counterAcks.get(proc) ?? 0) + 1);
  }
  const uncertainCounter = new Map<number, number>();
  for (const [kind, id] of uncertain) {
    if (kind !== 'counter') continue;
    const proc = Number(id!.slice(1).split('.')[0]);
    uncertainCounter.set(proc, (uncertainCounter.get(proc) ?? 0) + 1);
  }
  const counters = await db.query<{ proc: unknown; n: unknown }>('SELECT proc, n FROM soak_counters ORDER BY proc');
  const bad: string[] = [];
  let ackedTotal = 0;
  for (const c of counters) {
    const proc = Number(c.proc);
    const n = Number(c.n);
    const a = counterAcks.get(proc) ?? 0;
    ackedTotal += a;
    const open = (uncertainCounter.get(proc) ?? 0) + (killsByProc.get(proc) ?? 0);
    if (n < a || n > a + open) bad.push(`proc ${proc}: counter ${n}, acknowledged ${a}, at most ${open} in flight at a kill`);
  }
  results.push({
    name: 'session counters equal their acknowledged increments (plus any in flight when their process was killed)',
    pass: bad.length === 0,
    detail: bad.length ? bad.slice(0, 5).join('; ') : `${counters.length} counters, ${ackedTotal} acknowledged increments, all equal`,
  });

  // Tasks: every acknowledged submission was executed and recorded.
  const submitted = new Set(readJournals(dir, 'task').map(([key]) => key!));
  if (submitted.size > 0) {
    const runs = await db.query<{ task_key: string; n: unknown }>('SELECT task_key, COUNT(*) AS n FROM soak_task_runs GROUP BY task_key');
    const ran = new Map(runs.map((r) => [r.task_key, Number(r.n)]));
    const notRun = [...submitted].filter((k) => !ran.has(k));
    results.push({
      name: 'every submitted task was executed and its result recorded',
      pass: notRun.length === 0,
      detail: `${submitted.size} submitted, ${notRun.length} never executed${sample(notRun)}`,
    });
  }

  if (badWrites) results.push(await badWritesInvariant(db, dir));

  results.push({
    name: 'no lock error reached a caller',
    pass: lockErrors === 0,
    detail: `${lockErrors} lock errors (Conflicting lock, database is locked, lock or pool timeouts)`,
  });

  // The database opens cleanly and every table scans in full.
  const scan: string[] = [];
  let scanOk = true;
  for (const table of ['soak_ledger', 'soak_accounts', 'soak_counters', 'soak_task_runs']) {
    try {
      const r = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM (SELECT * FROM ${table}) AS s`);
      scan.push(`${table} ${Number(r[0]?.n)}`);
    } catch (err) {
      scanOk = false;
      scan.push(`${table}: ${(err as Error).message}`);
    }
  }
  if (db.engine === 'sqlite') {
    for (const pragma of ['integrity_check', 'foreign_key_check']) {
      const r = await db.query(`PRAGMA ${pragma}`);
      const ok = pragma === 'integrity_check' ? Object.values(r[0] ?? {})[0] === 'ok' : r.length === 0;
      if (!ok) scanOk = false;
      scan.push(`${pragma} ${ok ? 'ok' : JSON.stringify(r.slice(0, 3))}`);
    }
  }
  results.push({ name: 'the database reopens cleanly and every table scans in full', pass: scanOk, detail: scan.join(', ') });
  return results;
}

/** Every bad write was refused with a typed error, and none of them left a row. */
async function badWritesInvariant(db: Database, dir: string): Promise<InvariantResult> {
  const outcomes = new Map<BadWriteOutcome, number>();
  const wrong: string[] = [];
  for (const [outcome, name, code] of readJournals(dir, 'bad-write')) {
    const o = outcome as BadWriteOutcome;
    outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
    if (o === 'accepted' || o === 'untyped') wrong.push(`${name}: ${o}${code && code !== '-' ? ` (${code})` : ''}`);
  }
  const [row] = await db.query<{ n: unknown }>(`SELECT COUNT(*) AS n FROM soak_ledger WHERE id LIKE '${BAD_ID_PREFIX}%'`);
  const leftRows = Number(row?.n ?? 0);
  const sent = [...outcomes.values()].reduce((a, n) => a + n, 0);
  return {
    name: 'every bad write was refused with a typed error and wrote nothing',
    pass: sent > 0 && wrong.length === 0 && leftRows === 0,
    detail: `${sent} sent: ${outcomes.get('refused') ?? 0} refused (BOLT_SQL, BOLT_BAD_INPUT), ${outcomes.get('interrupted') ?? 0} interrupted by a fault, ${wrong.length} accepted or untyped${wrong.length ? ` (${[...new Set(wrong)].slice(0, 5).join('; ')})` : ''}; ${leftRows} of their ledger rows present`,
  };
}

/** Tasks executed more than once (a lease expired while the first run was still going). */
export async function countLeaseReruns(db: Database): Promise<number> {
  const r = await db.query<{ n: unknown }>('SELECT COUNT(*) AS n FROM (SELECT task_key FROM soak_task_runs GROUP BY task_key HAVING COUNT(*) > 1) AS d');
  return Number(r[0]?.n ?? 0);
}
