/**
 * A raw connection to a host socket, speaking the wire protocol by hand (framed
 * `v8.serialize`): what a hostile or broken client can send, without the client library's checks.
 */
import { createConnection, type Socket } from 'node:net';
import { FrameDecoder } from '../../storage/wire/frame.js';

export interface RawClient {
  sock: Socket;
  /** Every reply decoded so far, in arrival order. */
  replies: Array<{ id: number; ok: boolean; result?: unknown; error?: { code: string; message: string } }>;
}

/** Connects to `socketPath`; resolves once connected. */
export function rawConnect(socketPath: string): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    const replies: RawClient['replies'] = [];
    const dec = new FrameDecoder((m) => replies.push(m as RawClient['replies'][number]));
    sock.on('data', (c: Buffer) => dec.push(c));
    sock.once('error', reject);
    sock.once('connect', () => resolve({ sock, replies }));
  });
}
