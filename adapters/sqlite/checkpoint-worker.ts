/**
 * The thread that checkpoints a WAL file for one database handle (checkpointer.ts). It watches
 * the WAL's growth in its wal-index (wal-index.ts) and, while the handle says so (Slot.Watch),
 * runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection once CHECKPOINT_FRAMES frames wait
 * to be copied, as SQLite's automatic checkpoint would in a COMMIT. The handle may ask for a
 * checkpoint while its writers wait (a catch-up). A checkpoint copies WAL
 * pages into the database file and fsyncs both; here that blocks this thread only.
 */
import { workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { connect, type SqliteConnectSettings } from './connect.js';
import { Request, Slot } from './checkpoint-slots.js';
import { WalIndexReader } from './wal-index.js';
import { sameFile, type FileIdentity } from './file-identity.js';

/** Frames waiting to be copied that start a checkpoint: SQLite's own automatic checkpoint's 1,000. */
const CHECKPOINT_FRAMES = 1_000;
/** How often the WAL is looked at: every POLL_MIN_MS while it grows, backing off to POLL_MAX_MS while it does not. */
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 1_000;
/**
 * Looks in a row that find no readable wal-index while the thread is in charge, before it gives
 * up (about 3 s with the backoff): something other than SQLite's `-shm` is under that name (a
 * directory, a FIFO), and commits must checkpoint again, or the WAL would grow to the writer's
 * fallback bound.
 */
const BLIND_LOOKS = 10;

const { settings, slots, file } = workerData as { settings: SqliteConnectSettings; slots: SharedArrayBuffer; file: FileIdentity };
const s = new Int32Array(slots);
/**
 * This thread's connection. PASSIVE never waits for a lock, and nothing commits on it. Opening
 * reads the schema, which another program holding a rollback-journal file exclusively refuses
 * (SQLITE_BUSY): the thread tries again until it can, or is told to stop. It opens the handle's
 * own file or nothing: a file renamed or replaced since the handle opened it would have this
 * connection create or checkpoint another file while marking the handle's WAL copied.
 */
function open(): BetterSqlite3.Database | undefined {
  for (;;) {
    try {
      const db = connect({ ...settings, pragmas: { ...settings.pragmas, wal_autocheckpoint: 0 } }, true);
      if (!sameFile(settings.path, file)) {
        db.close();
        throw new Error(`${settings.path} is no longer the file the handle opened`);
      }
      return db;
    } catch (err) {
      if (!String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw err;
      if (Atomics.wait(s, Slot.Request, Request.None, POLL_MAX_MS) !== 'timed-out' && Atomics.load(s, Slot.Request) === Request.Stop) return undefined;
    }
  }
}
const db = open();
const wal = new WalIndexReader(settings.path);

function checkpoint(): void {
  try {
    const [r] = db!.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    s[Slot.Log] = r!.log;
    s[Slot.Checkpointed] = r!.checkpointed;
    s[Slot.Busy] = r!.busy;
    s[Slot.Runs]!++;
  } catch {
    // A failed checkpoint (disk full, I/O error) changes nothing: the next one tries again, and
    // the connections' own automatic checkpoint still bounds the WAL.
    s[Slot.Failures]!++;
  }
}

let wait = POLL_MIN_MS;
let seen = -1;
let blind = 0;
while (db) {
  Atomics.wait(s, Slot.Request, Request.None, wait);
  const req = Atomics.load(s, Slot.Request);
  if (req === Request.Stop) break;
  if (req === Request.CatchUp) {
    checkpoint();
    Atomics.store(s, Slot.Request, Request.None);
    Atomics.add(s, Slot.Done, 1);
    Atomics.notify(s, Slot.Done);
    continue;
  }
  const now = wal.read();
  // No wal-index yet (no write yet, or a rollback-journal file): look less and less often.
  wait = !now || now.frames === seen ? Math.min(wait * 2, POLL_MAX_MS) : POLL_MIN_MS;
  if (!now) {
    // The handle hands over only after it has written: by then there is a wal-index to read.
    if (Atomics.load(s, Slot.Watch) === 1 && ++blind >= BLIND_LOOKS) throw new Error(`cannot read the WAL index ${settings.path}-shm`);
    continue;
  }
  blind = 0;
  seen = now.frames;
  s[Slot.Frames] = now.frames;
  if (Atomics.load(s, Slot.Watch) === 1 && now.frames - now.backfilled >= CHECKPOINT_FRAMES) checkpoint();
}
wal.close();
db?.close();
