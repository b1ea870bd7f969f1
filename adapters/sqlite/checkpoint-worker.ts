/**
 * The thread that checkpoints a WAL file for one database handle (checkpointer.ts): it waits
 * for a request in shared memory, runs `PRAGMA wal_checkpoint(PASSIVE | RESTART)` on its own
 * connection, writes the outcome back and wakes whoever waits. A checkpoint writes WAL pages
 * into the database file and fsyncs both; here that blocks this thread, not the handle's.
 */
import { workerData } from 'node:worker_threads';
import { connect, type SqliteConnectSettings } from './connect.js';
import { Slot, Request } from './checkpoint-slots.js';

interface Data {
  settings: SqliteConnectSettings;
  slots: SharedArrayBuffer;
  /** How long a RESTART waits for other connections' writers and readers, ms. */
  restartWaitMs: number;
}

const { settings, slots, restartWaitMs } = workerData as Data;
const s = new Int32Array(slots);
// Its own checkpoints only: a commit never happens on this connection anyway.
const db = connect({ ...settings, pragmas: { ...settings.pragmas, wal_autocheckpoint: 0 } });

for (;;) {
  Atomics.wait(s, Slot.Request, Request.None);
  const req = Atomics.load(s, Slot.Request);
  if (req === Request.Stop) break;
  try {
    const restart = req === Request.Restart;
    // RESTART takes SQLite's write lock and waits for readers to leave the WAL: SQLite's busy
    // handler waits for them here, in this thread, up to restartWaitMs.
    db.pragma(`busy_timeout = ${restart ? restartWaitMs : 0}`);
    const [r] = db.pragma(`wal_checkpoint(${restart ? 'RESTART' : 'PASSIVE'})`) as Array<{ busy: number; log: number; checkpointed: number }>;
    s[Slot.Log] = r!.log;
    s[Slot.Checkpointed] = r!.checkpointed;
    s[Slot.Busy] = r!.busy;
    s[Slot.Runs]!++;
    if (restart && r!.busy === 0) s[Slot.Restarts]!++;
  } catch {
    // A failed checkpoint (disk full, I/O error) changes nothing: the next one tries again, and
    // the connections' own autocheckpoint still bounds the WAL.
    s[Slot.Failures]!++;
  }
  Atomics.store(s, Slot.Request, Request.None);
  Atomics.add(s, Slot.Done, 1);
  Atomics.notify(s, Slot.Done);
}
db.close();
