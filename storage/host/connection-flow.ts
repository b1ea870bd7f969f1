/**
 * Flow control of one client connection of a host, so that no client can make the host hold
 * an unbounded amount of memory or keep a connection forever:
 * - requests start in arrival order, at most `maxInFlight` at once in each of two lanes: the
 *   statements of open sessions, and everything else (so requests waiting for a pooled
 *   connection never hold up the session statements that would free one); `ping` needs no
 *   slot, so a client's liveness checks are answered while its long requests run;
 * - while the replies the client has not read exceed `maxUnsentBytes`, the host starts nothing
 *   new for it and stops reading its socket (its writes then back up on its own side); it
 *   resumes when the replies drain. The replies held for a client that never reads thus stay
 *   under `maxUnsentBytes` plus the replies of 2 × `maxInFlight` requests (`maxInFlight` when it
 *   uses no sessions). It also stops reading while the requests waiting for a slot hold more
 *   than `maxUnsentBytes` (their frames, and 256 bytes each besides): a held connection's
 *   cancels and its close are not read either, so a client with many small requests waiting
 *   (an agent's `Promise.all` of a thousand statements) must never be held for them;
 * - a frame begun but not complete within `frameTimeoutMs` of reading closes the connection
 *   (time during which the host itself holds off reading does not count).
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../core/logger.js';
import { BadInputError, InternalError } from '../../core/errors.js';
import type { WireLimits } from '../../core/config.js';
import { Fifo } from '../../core/fifo.js';
import { encodeFrameParts, type FrameDecoder } from './wire/frame.js';
import type { WireReply, WireRequest } from './wire/protocol.js';

export type FlowLimits = Pick<WireLimits, 'maxInFlight' | 'maxUnsentBytes' | 'frameTimeoutMs' | 'maxFrameBytes'>;

/** What one connection holds right now (summed over connections in the host's `info`). */
export interface FlowSnapshot {
  held: boolean;
  unsentBytes: number;
  running: number;
  waiting: number;
}

type Lane = 'session' | 'general';

/** What a waiting request is counted as besides its frame (the decoded object). */
const WAITING_OVERHEAD_BYTES = 256;

interface Waiting {
  req: WireRequest;
  bytes: number;
}

/** Statements on an open session run on its pinned connection: they never wait for the pool. */
function laneOf(req: WireRequest): Lane {
  return req.op.startsWith('session.') && req.op !== 'session.open' ? 'session' : 'general';
}

export class ConnectionFlow {
  private readonly waiting: Record<Lane, Fifo<Waiting>> = { session: new Fifo(), general: new Fifo() };
  private waitingBytes = 0;
  private readonly inFlight: Record<Lane, number> = { session: 0, general: 0 };
  private pings = 0;
  private held = false;
  private closed = false;
  private frameTimer?: NodeJS.Timeout;
  private framesDecoded = 0;

  /**
   * @param run answers one request; must not reject.
   * @param decoder receives the socket's bytes; `onRequest` of the owner calls {@link accept}.
   */
  constructor(
    private readonly sock: Socket,
    private readonly decoder: FrameDecoder,
    private readonly limits: FlowLimits,
    private readonly run: (req: WireRequest) => Promise<WireReply>,
    private readonly logger: Logger,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('drain', () => this.pump());
    sock.on('close', () => {
      this.closed = true;
      this.waiting.session.drain();
      this.waiting.general.drain();
      this.waitingBytes = 0;
      clearTimeout(this.frameTimer);
    });
  }

  /** This connection's state. */
  snapshot(): FlowSnapshot {
    return {
      held: this.held,
      unsentBytes: this.sock.writableLength,
      running: this.inFlight.session + this.inFlight.general + this.pings,
      waiting: this.waiting.session.length + this.waiting.general.length,
    };
  }

  /** Takes one decoded request (`bytes`: its frame): started now when a slot is free, else queued in order. */
  accept(req: WireRequest, bytes: number): void {
    this.framesDecoded++;
    if (req.op === 'ping') this.launch(req, undefined);
    else {
      const w = { req, bytes: bytes + WAITING_OVERHEAD_BYTES };
      this.waiting[laneOf(req)].push(w);
      this.waitingBytes += w.bytes;
      this.pump();
    }
  }

  /** Notes a frame that needs no slot and no reply (a `cancel`): the frame timer restarts as for any frame. */
  noteFrame(): void {
    this.framesDecoded++;
  }

  /** Sends a reply now (it counts toward the unsent bytes). */
  send(reply: WireReply): void {
    if (this.closed) return;
    let parts: [Buffer, Buffer];
    try {
      parts = encodeFrameParts(reply);
    } catch (err) {
      const error = new InternalError(`the reply could not be encoded: ${(err as Error).message}`).toJSON();
      parts = encodeFrameParts({ id: reply.id, ok: false, error });
    }
    if (parts[1].length > this.limits.maxFrameBytes) {
      // The client would drop the connection on such a frame, take it for a lost host and send
      // the request again, for ever: it gets this error instead.
      const error = new BadInputError(
        `the reply is ${parts[1].length} bytes, more than a frame may hold (${this.limits.maxFrameBytes}, BOLT_MAX_FRAME_BYTES): select fewer rows or columns, or page through them`,
        { replyBytes: parts[1].length, maxFrameBytes: this.limits.maxFrameBytes },
      ).toJSON();
      parts = encodeFrameParts({ id: reply.id, ok: false, error });
    }
    this.sock.cork();
    this.sock.write(parts[0]);
    this.sock.write(parts[1]);
    this.sock.uncork();
  }

  private onData(chunk: Buffer): void {
    const before = this.framesDecoded;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'bad frame from client: closing this connection');
      this.sock.destroy();
      return;
    }
    if (this.decoder.pendingBytes === 0) this.stopFrameTimer();
    else if (!this.frameTimer || this.framesDecoded !== before) this.startFrameTimer();
  }

  private startFrameTimer(): void {
    this.stopFrameTimer();
    if (this.closed || this.held) return;
    const ms = this.limits.frameTimeoutMs;
    this.frameTimer = setTimeout(() => {
      this.logger.warn({ pendingBytes: this.decoder.pendingBytes, frameTimeoutMs: ms }, 'a frame was not completed in time: closing this connection');
      this.sock.destroy();
    }, ms);
    this.frameTimer.unref();
  }

  private stopFrameTimer(): void {
    clearTimeout(this.frameTimer);
    this.frameTimer = undefined;
  }

  /**
   * Whether the requests waiting for a slot hold so much that the host stops reading this
   * connection. Generous on purpose: while it does not read, the statements of the client's open
   * sessions are not read either, and they may be what would free the pooled connections its
   * waiting requests need (holding at `maxInFlight` waiting requests deadlocked a soak process's
   * transactions until their pool timeouts); nor are its cancels, or its closing.
   */
  private tooMuchWaiting(): boolean {
    return this.waitingBytes > this.limits.maxUnsentBytes;
  }

  /** Above the socket's high-water mark a write has returned false, so 'drain' will follow. */
  private congested(): boolean {
    return this.sock.writableLength > Math.max(this.limits.maxUnsentBytes, this.sock.writableHighWaterMark);
  }

  /** Starts waiting requests while slots are free and replies flow, then holds or resumes reading. */
  private pump(): void {
    for (const lane of ['session', 'general'] as const) {
      const queue = this.waiting[lane];
      while (!this.closed && queue.length > 0 && this.inFlight[lane] < this.limits.maxInFlight && !this.congested()) {
        const w = queue.shift()!;
        this.waitingBytes -= w.bytes;
        this.launch(w.req, lane);
      }
    }
    if (this.closed) return;
    const hold = this.congested() || this.tooMuchWaiting();
    if (hold && !this.held) {
      this.held = true;
      this.sock.pause();
      this.stopFrameTimer();
    } else if (!hold && this.held) {
      this.held = false;
      this.sock.resume();
      if (this.decoder.pendingBytes > 0) this.startFrameTimer();
    }
  }

  /** Runs `req` in a slot of `lane` (none for a ping). */
  private launch(req: WireRequest, lane: Lane | undefined): void {
    if (lane) this.inFlight[lane]++;
    else this.pings++;
    void this.run(req).then((reply) => {
      if (lane) this.inFlight[lane]--;
      else this.pings--;
      this.send(reply);
      this.pump();
    });
  }
}
