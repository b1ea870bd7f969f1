/**
 * `bolt start --agents 8 [--db PATH] [--sequential] [--agent-module FILE]… [--index DIR]`:
 * runs the multi-agent runtime in the foreground on the database (default
 * `.bolt/analytics.db`, created if missing). On a terminal it shows a live status; otherwise
 * it prints plain log lines (`ready: …` once the agents are up, then a status line every few
 * seconds and a line per failed task). Ctrl-C (or SIGTERM) drains: running tasks finish up to
 * the drain timeout, claimed-but-not-started tasks go back to the queue, leases are released;
 * a second Ctrl-C stops at once.
 */
import type { Command } from 'commander';
import { BoltIntegration } from '../../core/runtime/bolt-integration.js';
import { BadInputError } from '../../core/errors.js';
import { DEFAULT_DATABASE, MAX_AGENTS, MAX_TIMER_MS } from '../../core/config.js';
import type { TaskStatus } from '../../core/runtime/task-states.js';
import type { EngineName } from '../../core/database.js';
import { action, EXIT, println } from '../cli-action.js';
import { collect } from '../task-format.js';
import { InPlaceRenderer, renderStatus, statusLine } from '../live-status.js';
import { intOption } from '../int-option.js';
import { parseHttpAddress, resolveToken } from '../http-address.js';
import type { DashboardServer } from '../dashboard/server.js';
import { indexRoot } from '../../search/indexer.js';

/** How long the process may stay alive once the runtime has stopped (see {@link endIfStillAlive}). */
const STUCK_AFTER_STOP_MS = 2_000;

/**
 * Ends the process the way `sig` asked (its default action) if it is still alive `afterMs`
 * after the runtime stopped. What keeps it alive then is an agent thread inside a native
 * database call: a long SQLite statement, which better-sqlite3 cannot interrupt and during
 * which a thread cannot be terminated; Node's exit would wait for it too. Everything is
 * released by then, and SQLite rolls back a transaction its process left unfinished.
 */
function endIfStillAlive(sig: NodeJS.Signals, afterMs: number): void {
  setTimeout(() => {
    process.stderr.write(
      `${sig}: an agent thread is still inside a native call that cannot be interrupted (such as a long SQLite statement); ending the process\n`,
    );
    process.removeAllListeners(sig);
    process.kill(process.pid, sig);
  }, afterMs).unref();
}

function parseEngine(v: string): EngineName {
  if (v !== 'duckdb' && v !== 'sqlite' && v !== 'postgres') throw new BadInputError(`--engine must be duckdb, sqlite or postgres, got ${JSON.stringify(v)}`);
  return v;
}

interface StartOpts {
  engine?: EngineName;
  agents?: number;
  db?: string;
  sequential?: boolean;
  agentModule?: string[];
  index?: string[];
  drainTimeout?: number;
  status?: boolean;
  http?: string;
  httpToken?: string;
}

const STATUS_LINE_EVERY_MS = 5000;

export function register(program: Command): void {
  program
    .command('start')
    .description('run the multi-agent runtime in the foreground (Ctrl-C drains, twice stops)')
    .option('--agents <n>', 'number of agent worker threads (default 8)', intOption('--agents', 1, MAX_AGENTS))
    .option('--db <path>', `database file or postgres:// URL (default ${DEFAULT_DATABASE}, created if missing)`)
    .option('--engine <name>', 'duckdb, sqlite or postgres (default: from the URL or the file header; a new file is DuckDB)', parseEngine)
    .option('--sequential', 'one agent, tasks strictly in submission order (debugging)')
    .option('--agent-module <file>', 'load agents from this .js/.mjs/.ts module (repeatable)', collect)
    .option('--index <dir>', 'submit an index task for this directory (needs the index agent; repeatable)', collect)
    .option('--drain-timeout <ms>', 'on Ctrl-C, how long running tasks may take to finish (default 30000)', intOption('--drain-timeout', 0, MAX_TIMER_MS))
    .option('--no-status', 'plain log lines even on a terminal')
    .option('--http <[host:]port>', 'serve the dashboard and /metrics there (host default 127.0.0.1; port 0 picks one)')
    .option('--http-token <secret>', 'require this token on every request (needed for an address other than loopback; or BOLT_HTTP_TOKEN)')
    .action(
      action(async (o: StartOpts) => {
        // Each --index directory exists and is one before anything is opened or started.
        for (const dir of o.index ?? []) await indexRoot(dir);
        const bolt = new BoltIntegration({
          agents: o.agents,
          database: o.db,
          engine: o.engine,
          sequential: o.sequential,
          agentModules: o.agentModule,
          drainTimeoutMs: o.drainTimeout,
        });
        // Bad --http options fail before anything starts.
        if (o.http !== undefined) resolveToken(parseHttpAddress(o.http), o.httpToken);
        // Ctrl-C while starting (opening the database, loading agent modules) stops the start
        // and closes what it opened; without a handler the process died holding the file.
        let stoppedWhileStarting: NodeJS.Signals | undefined;
        const onEarlySignal = (sig: NodeJS.Signals): void => {
          if (stoppedWhileStarting) return;
          stoppedWhileStarting = sig;
          println(`${sig}: stopping before the runtime started`);
          void bolt.shutdown({ immediate: true });
        };
        process.on('SIGINT', onEarlySignal);
        process.on('SIGTERM', onEarlySignal);
        try {
          await bolt.initialize();
        } catch (err) {
          if (stoppedWhileStarting) return EXIT.ok;
          throw err;
        } finally {
          process.off('SIGINT', onEarlySignal);
          process.off('SIGTERM', onEarlySignal);
        }
        if (stoppedWhileStarting) {
          // The signal came as the start finished.
          await bolt.shutdown({ immediate: true });
          return EXIT.ok;
        }
        let dashboard: DashboardServer | undefined;
        if (o.http !== undefined) {
          try {
            // Loaded only when asked for: prom-client and the page are not every start's to load.
            const { serveDashboard } = await import('../dashboard/serve.js');
            dashboard = await serveDashboard({ http: o.http, token: o.httpToken, queue: bolt.getQueue(), db: bolt.getDatabaseManager(), runtime: bolt });
          } catch (err) {
            await bolt.shutdown();
            throw err;
          }
        }
        const names = bolt.agents().map((a) => a.name);
        if (o.index?.length && !names.includes('index')) {
          await bolt.shutdown();
          throw new BadInputError('--index needs the `index` agent, which this build does not have yet (it comes with Einstein search)');
        }
        for (const dir of o.index ?? []) await bolt.submit('index', { dir });

        const tty = Boolean(process.stdout.isTTY) && o.status !== false;
        const log = (line: string): void => {
          if (!tty) println(`${new Date().toISOString()} ${line}`);
        };
        println(
          `ready: runtime ${bolt.config.runtimeId} with ${bolt.config.agents} agent${bolt.config.agents === 1 ? '' : 's'}` +
            `${bolt.config.sequential ? ' (sequential)' : ''} on ${bolt.config.database}; agents: ${names.join(', ')}`,
        );
        if (dashboard) println(`dashboard: ${dashboard.url}/ (metrics: ${dashboard.url}/metrics)`);

        bolt.on('task:failed', (e) =>
          log(`task ${e.id} (${e.agent}) failed attempt ${e.attempt}: [${e.error.code}] ${e.error.message}; retry at ${new Date(e.retryAt).toISOString()}`),
        );
        bolt.on('task:dead', (e) => log(`task ${e.id} (${e.agent}) is dead after attempt ${e.attempt}: [${e.error.code}] ${e.error.message}`));
        bolt.on('task:cancelled', (e) => log(`task ${e.id} (${e.agent}) cancelled`));
        bolt.on('agent:down', (e) => log(`${e.agentId} (thread ${e.threadId}) down: ${e.reason}`));
        bolt.on('db:health', (e) => {
          if (!e.ok) log(`database unhealthy: [${e.error?.code}] ${e.error?.message}`);
          else if (e.reclaimed) log(`reclaimed ${e.reclaimed} task(s) whose runtime stopped renewing their lease`);
          for (const f of e.fixed) log(`removed ${f.kind === 'stale-sidecar' ? 'stale sidecar' : 'dead socket'} ${f.path} (left by a Bolt host that died)`);
        });

        let counts: Record<TaskStatus, number> | undefined;
        const refreshCounts = async (): Promise<void> => {
          counts = await bolt.counts().catch(() => counts);
        };
        const renderer = tty ? new InPlaceRenderer(process.stdout) : undefined;
        let lastLine = Date.now();
        // A ref'd timer: it keeps the process alive while the runtime runs.
        const ticker = setInterval(
          () => {
            void refreshCounts().then(() => {
              if (renderer) renderer.draw(renderStatus(bolt.status(), counts));
              else if (Date.now() - lastLine >= STATUS_LINE_EVERY_MS) {
                lastLine = Date.now();
                log(statusLine(bolt.status(), counts));
              }
            });
          },
          tty ? 500 : 1000,
        );

        let signals = 0;
        let lastSignal: NodeJS.Signals = 'SIGINT';
        const done = new Promise<number>((resolve) => {
          const onSignal = (sig: NodeJS.Signals): void => {
            signals++;
            lastSignal = sig;
            if (signals === 1) {
              println(
                `${sig}: draining — running tasks finish (up to ${bolt.config.drainTimeoutMs} ms), queued tasks stay queued; Ctrl-C again to stop at once`,
              );
              void bolt.shutdown().then(
                () => resolve(EXIT.ok),
                () => resolve(EXIT.error),
              );
            } else {
              println(`${sig}: stopping at once — running tasks are aborted and given back to the queue`);
              void bolt.shutdown({ immediate: true }).then(
                () => resolve(EXIT.ok),
                () => resolve(EXIT.error),
              );
            }
          };
          process.on('SIGINT', onSignal);
          process.on('SIGTERM', onSignal);
        });
        const code = await done;
        clearInterval(ticker);
        await dashboard?.close();
        const s = bolt.status().dispatcher;
        println(`stopped: done ${s.done}, failed ${s.failed}, dead ${s.dead}, cancelled ${s.cancelled}; leases released`);
        endIfStillAlive(lastSignal, STUCK_AFTER_STOP_MS);
        return code;
      }),
    );
}
