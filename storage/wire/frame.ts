/**
 * Framing of Bolt's Unix-socket protocol: each message is a 4-byte big-endian length
 * followed by that many bytes of `v8.serialize(message)`. v8 serialization keeps bigint,
 * Date, typed arrays, Map, Set, NaN and ±Infinity intact across the wire.
 */
import { serialize, deserialize } from 'node:v8';
import { ProtocolError } from '../../core/errors.js';

/** Frames larger than this close the connection (a malformed or hostile peer). */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** Encodes one message as a frame. */
export function encodeFrame(message: unknown): Buffer {
  const body = serialize(message);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/**
 * Incremental decoder: feed it socket chunks, it calls `onMessage` for each whole frame.
 * Throws `ProtocolError` on an oversized or undecodable frame; the caller then closes the socket.
 */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onMessage: (message: unknown) => void, private readonly maxBytes = MAX_FRAME_BYTES) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0);
      if (len > this.maxBytes) throw new ProtocolError(`frame of ${len} bytes exceeds the ${this.maxBytes}-byte limit`, { len });
      if (this.buf.length < 4 + len) return;
      const body = this.buf.subarray(4, 4 + len);
      this.buf = this.buf.subarray(4 + len);
      let message: unknown;
      try {
        message = deserialize(body);
      } catch (err) {
        throw new ProtocolError(`undecodable frame: ${(err as Error).message}`);
      }
      this.onMessage(message);
    }
  }
}
