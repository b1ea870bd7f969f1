/**
 * The thread that checkpoints a WAL file for one database handle (checkpointer.ts): it waits
 * for a request in shared memory, runs `PRAGMA wal_checkpoint(PASSIVE)` on its own connection,
 * writes the outcome back and wakes whoever waits. A checkpoint writes WAL pages into the
 * database file and fsyncs both; here that blocks this thread, not the handle's.
 */
import { workerData } from 'node:worker_threads';
import { connect, type SqliteConnectSettings } from './connect.js';
import { Request, Slot } from './checkpoint-slots.js';

const { settings, slots } = workerData as { settings: SqliteConnectSettings; slots: SharedArrayBuffer };
const s = new Int32Array(slots);
// PASSIVE never waits for a lock, and nothing commits on this connection.
const db = connect({ ...settings, pragmas: { ...settings.pragmas, wal_autocheckpoint: 0 } });

for (;;) {
  Atomics.wait(s, Slot.Request, Request.None);
  if (Atomics.load(s, Slot.Request) === Request.Stop) break;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
    s[Slot.Log] = r!.log;
    s[Slot.Checkpointed] = r!.checkpointed;
    s[Slot.Busy] = r!.busy;
    s[Slot.Runs]!++;
  } catch {
    // A failed checkpoint (disk full, I/O error) changes nothing: the next one tries again, and
    // the connections' own automatic checkpoint still bounds the WAL.
    s[Slot.Failures]!++;
  }
  Atomics.store(s, Slot.Request, Request.None);
  Atomics.add(s, Slot.Done, 1);
  Atomics.notify(s, Slot.Done);
}
db.close();
