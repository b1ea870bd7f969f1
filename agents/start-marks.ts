/**
 * Start marks: whether, in which thread and when a dispatched task began, in memory the
 * runtime's main thread shares with its agent threads. The main thread takes a mark for each
 * dispatch and stores `-seq` in it; the worker, as the very first thing it does for the task,
 * turns it into `seq` and then records its thread and the time.
 *
 * The runtime reads a mark when it needs to know: at the task's reply, when its thread died (a
 * task whose thread died or timed out before it began there was never attempted), for the status
 * display, and every `SWEEP_MS` for the `started` event of long tasks. A start message per task
 * cost a post in the worker and a wake-up of the main thread (about a tenth of the queue's
 * throughput on PostgreSQL, docs/benchmarks.md), and could be lost with a dying thread. A late
 * worker can only change a mark that still holds its own dispatch's `-seq`.
 *
 * Layout, 24 bytes per mark: Int32 [state, ready, threadId, unused], then a Float64 start time
 * (ms since the epoch). `state` is `-seq` (dispatched) or `seq` (begun); `ready` is `seq` once
 * the thread and time of that dispatch are written.
 */

const BYTES_PER_MARK = 24;
const INTS_PER_MARK = BYTES_PER_MARK / 4;
const DOUBLES_PER_MARK = BYTES_PER_MARK / 8;
const STATE = 0;
const READY = 1;
const THREAD = 2;
/** In Float64 units: bytes 16–23 of the mark. */
const TIME = 2;

/** One dispatch's mark: where (`mark`, -1 for none) and its number. */
export interface MarkRef {
  mark: number;
  seq: number;
}

/** The thread a dispatch began in and when (ms since the epoch). */
export interface MarkedStart {
  threadId: number;
  at: number;
}

/** How often the runtime looks for tasks that began without a reply yet, ms. */
export const SWEEP_MS = 100;

export class StartMarks {
  private readonly ints: Int32Array;
  private readonly times: Float64Array;
  private readonly free: number[] = [];
  private seq = 0;

  /** The worker's side: marks over `buffer` (from `StartMarks.create(…).buffer`). */
  constructor(readonly buffer: SharedArrayBuffer) {
    this.ints = new Int32Array(buffer);
    this.times = new Float64Array(buffer);
  }

  /** The main thread's side: `count` marks, all free. */
  static create(count: number): StartMarks {
    const marks = new StartMarks(new SharedArrayBuffer(BYTES_PER_MARK * count));
    for (let i = count - 1; i >= 0; i--) marks.free.push(i);
    return marks;
  }

  /** Main thread: a mark for a new dispatch (mark -1 when none is free: counted as begun). */
  take(): MarkRef {
    this.seq = (this.seq % 0x7fffffff) + 1;
    const mark = this.free.pop() ?? -1;
    if (mark >= 0) Atomics.store(this.ints, mark * INTS_PER_MARK + STATE, -this.seq);
    return { mark, seq: this.seq };
  }

  /** Main thread: the dispatch settled; its mark may serve another. */
  release(ref: MarkRef): void {
    if (ref.mark >= 0) this.free.push(ref.mark);
  }

  /** Main thread: whether the dispatch began in its thread (a dispatch without a mark counts as begun). */
  begun(ref: MarkRef): boolean {
    return ref.mark < 0 || Atomics.load(this.ints, ref.mark * INTS_PER_MARK + STATE) === ref.seq;
  }

  /** Main thread: where and when the dispatch began, once its worker recorded it. */
  started(ref: MarkRef): MarkedStart | undefined {
    if (ref.mark < 0) return undefined;
    const base = ref.mark * INTS_PER_MARK;
    if (Atomics.load(this.ints, base + READY) !== ref.seq) return undefined;
    return { threadId: this.ints[base + THREAD]!, at: this.times[ref.mark * DOUBLES_PER_MARK + TIME]! };
  }

  /** Worker: the task of dispatch `ref` begins in thread `threadId` now. */
  begin(ref: MarkRef, threadId: number): void {
    if (ref.mark < 0) return;
    const base = ref.mark * INTS_PER_MARK;
    if (Atomics.compareExchange(this.ints, base + STATE, -ref.seq, ref.seq) !== -ref.seq) return;
    this.ints[base + THREAD] = threadId;
    this.times[ref.mark * DOUBLES_PER_MARK + TIME] = Date.now();
    // After the plain writes above: whoever reads `ready` as seq sees them.
    Atomics.store(this.ints, base + READY, ref.seq);
  }
}
