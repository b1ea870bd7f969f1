/**
 * Stopping a PostgreSQL statement whose caller gave up (its `signal` aborted). Without this the
 * statement ran on to its end on the server, and its client, given back to the pool, made the
 * next borrower wait behind it: a few runaway statements (an agent's timed-out `sql` task)
 * held every pooled client.
 */
import net from 'node:net';
import type pg from 'pg';
import { AbortedError } from '../../core/errors.js';
import { notStartable, whenAborted } from '../../core/abortable.js';

/** The CancelRequest code of PostgreSQL's protocol (1234 in the high 16 bits, 5678 in the low). */
const CANCEL_REQUEST_CODE = 80877102;
/** How long the cancel's own connection may take before it is given up. */
const CANCEL_SEND_MS = 2000;
/** How long a cancelled statement may take to end before its client counts as lost. */
const STOP_WAIT_MS = 5000;

/**
 * What became of a cancel request: the server took it (closed the connection after it), it was
 * never sent (no connection), or it was sent but not confirmed in time, so it may still land.
 */
export type CancelDelivery = 'taken' | 'not-sent' | 'unknown';

/**
 * Asks the server to cancel what `client`'s backend is running, with the protocol's
 * CancelRequest on a connection of its own, as libpq's `PQcancel` does: no login and no pooled
 * client, so it works when every pooled client is busy, which is when it matters. PostgreSQL
 * reads it before any authentication or pg_hba rule, so a plain socket serves even where logins
 * need TLS. Never rejects. A backend that is idle by the time it arrives ignores it.
 */
export function sendCancel(client: pg.ClientBase): Promise<CancelDelivery> {
  const { processID, secretKey } = client as unknown as { processID?: unknown; secretKey?: unknown };
  const { host, port } = client as pg.Client;
  if (typeof processID !== 'number' || typeof secretKey !== 'number' || typeof host !== 'string') return Promise.resolve('not-sent');
  return new Promise((resolve) => {
    let sent = false;
    const socket = host.startsWith('/') ? net.connect(`${host}/.s.PGSQL.${port}`) : net.connect(port, host);
    const done = (how: CancelDelivery): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(how);
    };
    const timer = setTimeout(() => done(sent ? 'unknown' : 'not-sent'), CANCEL_SEND_MS);
    socket.once('connect', () => {
      const request = Buffer.alloc(16);
      request.writeInt32BE(16, 0);
      request.writeInt32BE(CANCEL_REQUEST_CODE, 4);
      request.writeInt32BE(processID, 8);
      request.writeInt32BE(secretKey, 12);
      sent = true;
      socket.end(request);
    });
    socket.on('error', () => done(sent ? 'unknown' : 'not-sent'));
    socket.once('close', () => done(sent ? 'taken' : 'not-sent'));
    socket.resume();
  });
}

/**
 * Runs `start()`, a statement on `client`. If `signal` aborts first, the statement is cancelled
 * on the server and the caller gets BOLT_ABORTED once it has ended, not before: the client goes
 * back to the pool only then, so a late cancel can never stop the next borrower's statement. A
 * statement still running STOP_WAIT_MS after the cancel (the server unreachable, or a backend
 * that does not check for interrupts) gets BOLT_ABORTED with `connectionLost`: its client is
 * destroyed, not reused. Like `unlessAborted`, an aborted signal starts nothing.
 */
export function stoppedOnAbort<T>(client: pg.ClientBase, signal: AbortSignal | undefined, start: () => Promise<T>): Promise<T> {
  if (signal === undefined) return start();
  const refused = notStartable(signal);
  if (refused) return Promise.reject(refused);
  const work = start();
  return new Promise<T>((resolve, reject) => {
    let aborted = false;
    const forget = whenAborted(signal, () => {
      aborted = true;
      const ended = work.then(
        () => true,
        () => true,
      );
      void sendCancel(client)
        .then(async (delivery) => {
          const endedInTime = await Promise.race([ended, new Promise<false>((res) => setTimeout(() => res(false), STOP_WAIT_MS).unref())]);
          // A cancel that may still be on its way could stop the next borrower's statement.
          if (delivery === 'unknown')
            return new AbortedError('The statement was aborted; its cancel request was not confirmed by PostgreSQL, so its connection was closed', {
              connectionLost: true,
            });
          return endedInTime
            ? new AbortedError('The statement was aborted: PostgreSQL was asked to cancel it, and it has ended (it may have completed first)')
            : new AbortedError('The statement was aborted, but it had not ended 5 s after PostgreSQL was asked to cancel it: its connection was closed', {
                connectionLost: true,
              });
        })
        .then(reject);
    });
    work.then(
      (value) => {
        if (aborted) return;
        forget();
        resolve(value);
      },
      (err: unknown) => {
        if (aborted) return;
        forget();
        reject(err);
      },
    );
  });
}
