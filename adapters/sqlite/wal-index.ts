/**
 * How far a WAL file has grown and how much of it is copied into the database, read from its
 * wal-index (the `-shm` file) without a connection or a lock. The layout is SQLite's documented
 * one (https://www.sqlite.org/walformat.html, "the WAL-index header"): `mxFrame`, the last
 * valid frame, is a 32-bit integer at byte 16 of the header, and `nBackfill`, the frames already
 * checkpointed, at byte 96 (the header is stored twice, then the checkpoint information), both
 * in the machine's byte order. A read may race a writer: the figures only decide when to
 * checkpoint.
 */
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';

const MX_FRAME = 16;
const N_BACKFILL = 96;
const READ = N_BACKFILL + 4;

export interface WalProgress {
  /** Frames in the WAL since it last started over. */
  frames: number;
  /** Of those, frames already written into the database file. */
  backfilled: number;
}

/** Reads a database's wal-index; `read()` is undefined while there is none. */
export class WalIndexReader {
  private fd: number | undefined;
  private readonly buf = Buffer.alloc(READ);
  private readonly little = endianness() === 'LE';

  constructor(private readonly dbPath: string) {}

  read(): WalProgress | undefined {
    try {
      // Non-blocking: a FIFO planted under that name must not hang the thread in open().
      this.fd ??= openSync(`${this.dbPath}-shm`, constants.O_RDONLY | constants.O_NONBLOCK);
      if (readSync(this.fd, this.buf, 0, READ, 0) < READ) return undefined;
    } catch {
      return undefined;
    }
    const b = this.buf;
    return this.little
      ? { frames: b.readUInt32LE(MX_FRAME), backfilled: b.readUInt32LE(N_BACKFILL) }
      : { frames: b.readUInt32BE(MX_FRAME), backfilled: b.readUInt32BE(N_BACKFILL) };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
