/**
 * The `hostile-client` fault: a process that abuses a Bolt host's socket for a while.
 * `node hostile-client.js <socket> <windowMs> <replyMiB>` opens, on the socket given:
 * - a connection that sends a frame of garbage (not v8-serialized data);
 * - one whose header announces a 4 GiB frame;
 * - one that sends half a frame and then nothing;
 * - one that asks for `replyMiB` MiB of replies (1 MiB each) and never reads them;
 * - a burst of idle connections that never send anything;
 * holds them all until the window ends, then prints one JSON line of what it did and exits.
 * The soak checks that the host stayed up and within its memory bound meanwhile.
 */
import { createConnection, type Socket } from 'node:net';
import { encodeFrame } from '../../storage/host/wire/frame.js';

const [socketPath, windowArg = '5000', replyArg = '64'] = process.argv.slice(2);
const windowMs = Number(windowArg);
const replyMiB = Number(replyArg);
/** Idle connections opened at once. */
const IDLE_BURST = 300;

const sockets: Socket[] = [];
const did = { garbage: false, oversized: false, truncated: false, unreadRequests: 0, idleOpened: 0, refused: 0 };

function connect(): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createConnection(socketPath!);
    s.once('connect', () => {
      sockets.push(s);
      resolve(s);
    });
    s.once('error', () => {
      did.refused++;
      resolve(undefined);
    });
    // Whatever the host does to these connections is its business: never crash on it.
    s.on('error', () => undefined);
  });
}

function frameHeader(len: number): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(len >>> 0);
  return h;
}

async function main(): Promise<void> {
  const garbage = await connect();
  if (garbage) {
    const body = Buffer.from('this is not v8-serialized data at all');
    garbage.write(Buffer.concat([frameHeader(body.length), body]));
    did.garbage = true;
  }
  const oversized = await connect();
  if (oversized) {
    oversized.write(frameHeader(0xffffffff));
    did.oversized = true;
  }
  const truncated = await connect();
  if (truncated) {
    const frame = encodeFrame({ id: 1, op: 'query', sql: `SELECT '${'x'.repeat(4000)}' AS s` });
    truncated.write(frame.subarray(0, frame.length >> 1));
    did.truncated = true;
  }
  const greedy = await connect();
  if (greedy) {
    greedy.pause(); // never read: the host's replies pile up on its side
    for (let i = 0; i < replyMiB; i++) {
      greedy.write(encodeFrame({ id: i + 1, op: 'query', sql: 'SELECT repeat(?, 1048576) AS s', params: ['x'] }));
      did.unreadRequests++;
    }
  }
  const idle = await Promise.all(Array.from({ length: IDLE_BURST }, () => connect()));
  did.idleOpened = idle.filter(Boolean).length;
  await new Promise((r) => setTimeout(r, windowMs));
  for (const s of sockets) s.destroy();
  process.stdout.write(`${JSON.stringify(did)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stdout.write(`${JSON.stringify({ ...did, error: String((err as Error)?.message ?? err) })}\n`);
    process.exit(1);
  },
);
