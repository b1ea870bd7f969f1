/**
 * A raw connection to a host socket, speaking the wire protocol by hand (framed
 * `v8.serialize`): what a hostile or broken client can send, without the client library's checks.
 */
import { createConnection, type Socket } from 'node:net';
import type { TestContext } from 'node:test';
import { FrameDecoder } from '../../storage/host/wire/frame.js';

export interface RawClient {
  sock: Socket;
  /** Every reply decoded so far, in arrival order (none when connected with `read: false`). */
  replies: Array<{ id: number; ok: boolean; result?: unknown; error?: { code: string; message: string } }>;
  /** Resolves when the connection has closed (the host may close it). */
  closed: Promise<void>;
}

/**
 * Connects to `socketPath`; resolves once connected. With `read: false` nothing is read (the
 * host's replies back up); with `t`, the connection is destroyed when the test ends.
 */
export function rawConnect(socketPath: string, opts: { read?: boolean; t?: TestContext } = {}): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    opts.t?.after(() => sock.destroy());
    const replies: RawClient['replies'] = [];
    if (opts.read !== false) {
      const dec = new FrameDecoder((m) => replies.push(m as RawClient['replies'][number]));
      sock.on('data', (c: Buffer) => dec.push(c));
    }
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    // After connecting, whatever the host does to this connection is the test's to observe.
    sock.on('error', () => undefined);
    sock.once('error', reject);
    sock.once('connect', () => resolve({ sock, replies, closed }));
  });
}
