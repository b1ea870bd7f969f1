/**
 * `bolt dashboard [--db PATH] [--http [host:]port] [--http-token SECRET]`: the dashboard page,
 * its API and /metrics for a queue, without running agents in this process (the agents of
 * every `bolt start` on the same database show as runtimes holding tasks). Runs until Ctrl-C.
 * A database that is not there is refused (a mistyped path would have served an empty queue
 * from a new file); one without a queue gets the queue's tables.
 */
import type { Command } from 'commander';
import { openDatabase } from '../../storage/open-database.js';
import { TaskQueue } from '../../core/runtime/task-queue.js';
import { DEFAULT_DATABASE } from '../../core/config.js';
import { action, EXIT, println } from '../cli-action.js';
import { DB_OPTION_HELP } from '../queue-session.js';
import { parseHttpAddress, resolveToken } from '../http-address.js';
import { assertDatabaseExists } from '../existing-database.js';

interface DashboardOpts {
  db?: string;
  http: string;
  httpToken?: string;
}

export function register(program: Command): void {
  program
    .command('dashboard')
    .description('serve the dashboard page, its JSON API and /metrics for a queue, without running agents (Ctrl-C stops)')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--http <[host:]port>', 'where to listen (host default 127.0.0.1)', '127.0.0.1:7070')
    .option('--http-token <secret>', 'require this token on every request (needed for an address other than loopback; or BOLT_HTTP_TOKEN)')
    .action(
      action(async (o: DashboardOpts) => {
        resolveToken(parseHttpAddress(o.http), o.httpToken);
        const where = o.db ?? DEFAULT_DATABASE;
        assertDatabaseExists(where);
        const db = await openDatabase(where);
        try {
          const queue = new TaskQueue(db);
          await queue.ensureSchema();
          const { serveDashboard } = await import('../dashboard/serve.js');
          const server = await serveDashboard({ http: o.http, token: o.httpToken, queue, db });
          println(`dashboard: ${server.url}/ (metrics: ${server.url}/metrics) on ${db.location}; Ctrl-C stops`);
          await new Promise<void>((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
          });
          await server.close();
          return EXIT.ok;
        } finally {
          await db.close();
        }
      }),
    );
}
