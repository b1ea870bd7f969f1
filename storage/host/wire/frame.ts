/**
 * Framing of Bolt's Unix-socket protocol: each message is a 4-byte big-endian length
 * followed by that many bytes of `v8.serialize(message)`. v8 serialization keeps bigint,
 * Date, typed arrays, Map, Set, NaN and ±Infinity intact across the wire.
 */
import { serialize, deserialize } from 'node:v8';
import { ProtocolError } from '../../../core/errors.js';

/** Frames larger than this close the connection (a malformed or hostile peer). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const [head, body] = encodeFrameParts(message);
  return Buffer.concat([head, body], 4 + body.length);
}

/** Encodes one message as the two parts of a frame, header and body, to be written in order (no copy of the body). */
export function encodeFrameParts(message: unknown): [head: Buffer, body: Buffer] {
  const body = serialize(message);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return [head, body];
}

/**
 * Incremental decoder: feed it socket chunks, it calls `onMessage` for each whole frame.
 * Throws `ProtocolError` on an oversized or undecodable frame; the caller then closes the socket.
 *
 * Chunks are kept in a list until a frame is complete, then its body is copied once (or not
 * at all when one chunk holds it whole): reassembling a frame of n bytes costs O(n), however
 * small the chunks it arrives in.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length announced by the header being assembled; undefined until 4 bytes are in. */
  private expected: number | undefined;

  constructor(
    private readonly onMessage: (message: unknown, frameBytes: number) => void,
    private readonly maxBytes = MAX_FRAME_BYTES,
  ) {}

  /** Bytes received toward a frame not yet complete (0 between frames). */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.expected === undefined) {
        if (this.buffered < 4) return;
        const len = this.peekLength();
        if (len > this.maxBytes) throw new ProtocolError(`frame of ${len} bytes exceeds the ${this.maxBytes}-byte limit`, { len });
        this.expected = len;
      }
      if (this.buffered < 4 + this.expected) return;
      const frameBytes = 4 + this.expected;
      const body = this.take(frameBytes).subarray(4);
      this.expected = undefined;
      let message: unknown;
      try {
        message = deserialize(body);
      } catch (err) {
        throw new ProtocolError(`undecodable frame: ${(err as Error).message}`);
      }
      this.onMessage(message, frameBytes);
    }
  }

  /** The big-endian length in the first 4 buffered bytes, which may span chunks. */
  private peekLength(): number {
    const first = this.chunks[0]!;
    if (first.length >= 4) return first.readUInt32BE(0);
    const head = Buffer.allocUnsafe(4);
    let off = 0;
    for (const c of this.chunks) {
      off += c.copy(head, off, 0, Math.min(c.length, 4 - off));
      if (off === 4) break;
    }
    return head.readUInt32BE(0);
  }

  /** Removes and returns the first `n` buffered bytes, copying only when they span chunks. */
  private take(n: number): Buffer {
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    let used = 0;
    while (off < n) {
      const c = this.chunks[used]!;
      const part = Math.min(c.length, n - off);
      c.copy(out, off, 0, part);
      off += part;
      if (part === c.length) used++;
      else this.chunks[used] = c.subarray(part);
    }
    this.chunks.splice(0, used);
    return out;
  }
}
