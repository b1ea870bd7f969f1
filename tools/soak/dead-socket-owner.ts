/**
 * Helper for the `stale-lock` fault: listens on the Unix socket given in argv[2] and prints
 * "ready"; the orchestrator SIGKILLs it, leaving a socket file nobody listens on and a PID
 * that is provably dead.
 */
import { createServer } from 'node:net';

const server = createServer((s) => s.destroy());
server.listen(process.argv[2], () => process.stdout.write('ready\n'));
