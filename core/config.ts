/**
 * Runtime configuration: defaults, environment overrides (`BOLT_*`, handy for tests and
 * `bolt start`), and validation. Explicit options win over the environment, which wins over
 * the defaults.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { BadInputError } from './errors.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import type { EngineName, OpenOptions } from './database.js';

/** The embedded default database of `bolt start`. */
export const DEFAULT_DATABASE = '.bolt/analytics.db';

/** Options of `new BoltIntegration(...)`. Every field is optional. */
export interface BoltOptions {
  /** Number of agent worker threads (default 8; 1 with `sequential`). */
  agents?: number;
  /** Database file (DuckDB/SQLite) or URL (PostgreSQL). Default `.bolt/analytics.db`. */
  database?: string;
  /** Force the engine (a new file is DuckDB unless this says 'sqlite'). */
  engine?: EngineName;
  /** Options for opening the shared database (pool size, timeouts…); `engine` above wins. */
  databaseOptions?: OpenOptions;
  /** One agent, tasks strictly in submission order (the debugging mode). */
  sequential?: boolean;
  /** User agent modules (.js/.mjs/.ts), loaded in every worker. */
  agentModules?: string[];
  /** Lease length, ms (default 8000, env BOLT_LEASE_MS). A dead runtime's tasks are re-run after this. */
  leaseMs?: number;
  /** Lease renewal / cancel check interval, ms (default leaseMs/8, at most 1000; env BOLT_HEARTBEAT_MS). */
  heartbeatMs?: number;
  /** How often an idle runtime looks for tasks submitted by other processes, ms (default 50, env BOLT_POLL_MS). */
  pollMs?: number;
  /** Default per-task timeout from start, ms (default 300000, env BOLT_TASK_TIMEOUT_MS). */
  taskTimeoutMs?: number;
  /** After aborting a task (cancel, timeout, drain), how long its agent gets before its worker is terminated, ms (default 2000). */
  abortGraceMs?: number;
  /** `shutdown()`: how long running tasks may take to finish, ms (default 30000, env BOLT_DRAIN_TIMEOUT_MS). */
  drainTimeoutMs?: number;
  /** Default max attempts of a task (default 3). */
  maxAttempts?: number;
  /** Retry backoff (default base 500 ms, cap 60 s; env BOLT_RETRY_BASE_MS, BOLT_RETRY_CAP_MS). */
  backoff?: Partial<BackoffOptions>;
  /** Most tasks claimed in one statement (default 256). */
  claimBatch?: number;
  /**
   * Claimed tasks kept waiting locally beyond one per agent (default 256, env BOLT_PREFETCH).
   * Larger batches mean fewer statements per task; smaller ones share work more evenly between
   * several runtimes on one queue. Those tasks' leases are renewed and released like running ones.
   */
  prefetch?: number;
  /** How long a finished task's completion may wait to share one write with others, ms (default 5). */
  completionDelayMs?: number;
  /** Database health check interval, ms (default 5000, env BOLT_HEALTH_MS). */
  healthIntervalMs?: number;
  /** Heap limit of each agent worker, MB (default 1024, env BOLT_AGENT_HEAP_MB). */
  agentHeapMb?: number;
  /** How long agent modules may take to load at start, ms (default 60000, env BOLT_AGENT_LOAD_TIMEOUT_MS). */
  agentLoadTimeoutMs?: number;
  /** This runtime's lease owner name (default `host:pid:random`). */
  runtimeId?: string;
}

/** Fully resolved configuration. */
export interface BoltConfig {
  agents: number;
  database: string;
  engine?: EngineName;
  databaseOptions: OpenOptions;
  sequential: boolean;
  agentModules: string[];
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  taskTimeoutMs: number;
  abortGraceMs: number;
  drainTimeoutMs: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  claimBatch: number;
  prefetch: number;
  completionDelayMs: number;
  healthIntervalMs: number;
  agentHeapMb: number;
  agentLoadTimeoutMs: number;
  runtimeId: string;
}

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new BadInputError(`${name} must be a non-negative number, got ${JSON.stringify(v)}`, { name, value: v });
  return n;
}

/** The longest a Node.js timer waits (24.8 days): a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** The most agent threads one runtime starts. */
export const MAX_AGENTS = 1024;

/** `n` when it is a number in [min, max] (by default a timer's longest wait), else BOLT_BAD_INPUT. */
function positive(name: string, n: number, min = 1, max = MAX_TIMER_MS): number {
  if (!Number.isFinite(n) || n < min || n > max) throw new BadInputError(`${name} must be a number from ${min} to ${max}, got ${n}`, { name, value: n });
  return n;
}

/** `n` when it is a whole number in [min, max], else BOLT_BAD_INPUT (the queue stores it in an INTEGER column). */
function whole(name: string, n: number, min: number, max: number): number {
  if (!Number.isInteger(n) || n < min || n > max) throw new BadInputError(`${name} must be a whole number from ${min} to ${max}, got ${n}`, { name, value: n });
  return n;
}

/** `v` when it is undefined or a non-empty string, else BOLT_BAD_INPUT. */
function optionalText(name: string, v: unknown): string | undefined {
  if (v !== undefined && (typeof v !== 'string' || v.length === 0)) throw new BadInputError(`${name} must be a non-empty string, got ${typeof v}`, { name });
  return v;
}

/** The `backoff` option: undefined or an object (its delays are checked by `resolveConfig`). */
function checkBackoff(b: unknown): Partial<BackoffOptions> {
  if (b === undefined) return {};
  if (b === null || typeof b !== 'object') throw new BadInputError('backoff must be an object { baseMs, capMs }');
  return b as Partial<BackoffOptions>;
}

/** Resolves options + environment + defaults into a validated configuration. */
export function resolveConfig(o: BoltOptions = {}): BoltConfig {
  if (o === null || typeof o !== 'object') throw new BadInputError('Bolt options must be an object');
  const database = optionalText('database', o.database);
  if (o.agentModules !== undefined && (!Array.isArray(o.agentModules) || o.agentModules.some((m) => typeof m !== 'string' || m.length === 0))) {
    throw new BadInputError('agentModules must be an array of module paths or URLs (strings)');
  }
  const runtimeId = optionalText('runtimeId', o.runtimeId);
  // Retry delays from 0 ms to a timer's longest wait, the cap not under the base. Unchecked, a
  // NaN base made every failure's `run_at` NaN, which no engine stores: the failure was never
  // recorded, and the task died of a lost lease instead, its real error lost.
  const b = checkBackoff(o.backoff);
  const baseMs = positive('backoff.baseMs', b.baseMs ?? envInt('BOLT_RETRY_BASE_MS') ?? DEFAULT_BACKOFF.baseMs, 0);
  const capMs = positive('backoff.capMs', b.capMs ?? envInt('BOLT_RETRY_CAP_MS') ?? Math.max(baseMs, DEFAULT_BACKOFF.capMs), baseMs);
  const sequential = Boolean(o.sequential);
  const agents = sequential ? 1 : positive('agents', o.agents ?? 8, 1, MAX_AGENTS);
  if (sequential && o.agents !== undefined && o.agents !== 1) {
    throw new BadInputError('--sequential runs exactly one agent; drop --agents or set it to 1', { agents: o.agents });
  }
  const leaseMs = positive('leaseMs', o.leaseMs ?? envInt('BOLT_LEASE_MS') ?? 8000, 100);
  const heartbeatMs = positive('heartbeatMs', o.heartbeatMs ?? envInt('BOLT_HEARTBEAT_MS') ?? Math.min(1000, Math.floor(leaseMs / 8)), 10);
  if (heartbeatMs * 2 > leaseMs) {
    throw new BadInputError(`heartbeat (${heartbeatMs} ms) must be at most half the lease (${leaseMs} ms)`, { heartbeatMs, leaseMs });
  }
  return {
    agents: Math.floor(agents),
    database: database ?? DEFAULT_DATABASE,
    engine: o.engine,
    databaseOptions: o.databaseOptions ?? {},
    sequential,
    agentModules: o.agentModules ?? [],
    leaseMs,
    heartbeatMs,
    pollMs: positive('pollMs', o.pollMs ?? envInt('BOLT_POLL_MS') ?? 50, 1),
    taskTimeoutMs: positive('taskTimeoutMs', o.taskTimeoutMs ?? envInt('BOLT_TASK_TIMEOUT_MS') ?? 300_000, 1),
    abortGraceMs: positive('abortGraceMs', o.abortGraceMs ?? envInt('BOLT_ABORT_GRACE_MS') ?? 2000, 0),
    drainTimeoutMs: positive('drainTimeoutMs', o.drainTimeoutMs ?? envInt('BOLT_DRAIN_TIMEOUT_MS') ?? 30_000, 0),
    maxAttempts: whole('maxAttempts', o.maxAttempts ?? 3, 1, 2 ** 31 - 1),
    backoff: { baseMs, capMs },
    // Measured (8 agents, trivial tasks): batches of 256 gave ~3,000 tasks/s, batches of 64
    // ~2,300: a queue statement costs about the same whatever its batch size.
    claimBatch: positive('claimBatch', o.claimBatch ?? 256),
    prefetch: positive('prefetch', o.prefetch ?? envInt('BOLT_PREFETCH') ?? 256, 0),
    completionDelayMs: positive('completionDelayMs', o.completionDelayMs ?? envInt('BOLT_COMPLETION_DELAY_MS') ?? 5, 0),
    healthIntervalMs: positive('healthIntervalMs', o.healthIntervalMs ?? envInt('BOLT_HEALTH_MS') ?? 5000, 10),
    agentHeapMb: positive('agentHeapMb', o.agentHeapMb ?? envInt('BOLT_AGENT_HEAP_MB') ?? 1024, 16),
    agentLoadTimeoutMs: positive('agentLoadTimeoutMs', o.agentLoadTimeoutMs ?? envInt('BOLT_AGENT_LOAD_TIMEOUT_MS') ?? 60_000),
    runtimeId: runtimeId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
  };
}

/**
 * `BOLT_TRUST_FILE_OWNER`: when `1`/`true`, a DuckDB client also trusts a Bolt host run by the
 * database file's owner (not only by its own user). The `trustFileOwner` open option wins.
 */
export function trustFileOwnerFromEnv(): boolean {
  const v = process.env.BOLT_TRUST_FILE_OWNER;
  if (v === undefined || v === '' || v === '0' || v === 'false') return false;
  if (v === '1' || v === 'true') return true;
  throw new BadInputError(`BOLT_TRUST_FILE_OWNER must be 1 or 0, got ${JSON.stringify(v)}`, { name: 'BOLT_TRUST_FILE_OWNER', value: v });
}

/** Limits a host puts on each client connection of its Unix socket (see storage/host/server.ts). */
export interface WireLimits {
  /** Largest frame accepted; a bigger header closes the connection (env BOLT_MAX_FRAME_BYTES, default 256 MiB). */
  maxFrameBytes: number;
  /** A frame begun but not complete after this long closes its connection, ms (env BOLT_FRAME_TIMEOUT_MS, default 30000). */
  frameTimeoutMs: number;
  /**
   * Replies a connection has not read, in bytes, beyond which the host stops reading and
   * starting that connection's requests until they drain (env BOLT_HOST_MAX_UNSENT_BYTES, default 8 MiB).
   */
  maxUnsentBytes: number;
  /** Requests of one connection running at once (per lane, see storage/host/connection-flow.ts); later ones wait their turn (env BOLT_HOST_MAX_IN_FLIGHT, default 8, the default pool size: more would only wait for a pooled connection). */
  maxInFlight: number;
  /** Client connections a host keeps; beyond them a connection is refused with BOLT_HOST_BUSY (env BOLT_HOST_MAX_CONNECTIONS, default 1000). */
  maxConnections: number;
  /**
   * Extra connections beyond `maxConnections` that may each send one `ping`, `info` or `stats`
   * (probes such as `bolt db info` still reach a full host); env BOLT_HOST_CONNECTION_RESERVE, default 16.
   */
  connectionReserve: number;
}

/** Resolves the host's per-connection limits from the environment (validated). */
export function wireLimits(): WireLimits {
  return {
    maxFrameBytes: positive('BOLT_MAX_FRAME_BYTES', envInt('BOLT_MAX_FRAME_BYTES') ?? 256 * 1024 * 1024, 16),
    frameTimeoutMs: positive('BOLT_FRAME_TIMEOUT_MS', envInt('BOLT_FRAME_TIMEOUT_MS') ?? 30_000, 1),
    maxUnsentBytes: positive('BOLT_HOST_MAX_UNSENT_BYTES', envInt('BOLT_HOST_MAX_UNSENT_BYTES') ?? 8 * 1024 * 1024, 1),
    maxInFlight: Math.floor(positive('BOLT_HOST_MAX_IN_FLIGHT', envInt('BOLT_HOST_MAX_IN_FLIGHT') ?? 8, 1)),
    maxConnections: Math.floor(positive('BOLT_HOST_MAX_CONNECTIONS', envInt('BOLT_HOST_MAX_CONNECTIONS') ?? 1000, 1)),
    connectionReserve: Math.floor(positive('BOLT_HOST_CONNECTION_RESERVE', envInt('BOLT_HOST_CONNECTION_RESERVE') ?? 16, 0)),
  };
}

/**
 * How long a caller waits for a pooled connection before BOLT_POOL_TIMEOUT, ms:
 * `BOLT_POOL_TIMEOUT_MS` (the older name `BOLT_POOL_TIMEOUT` is still read), default 10 s.
 * The `connectionTimeoutMs` open option wins.
 */
export function poolTimeoutMs(): number {
  const name = process.env.BOLT_POOL_TIMEOUT_MS !== undefined ? 'BOLT_POOL_TIMEOUT_MS' : 'BOLT_POOL_TIMEOUT';
  return positive(name, envInt(name) ?? 10_000, 1);
}

/**
 * How long a closing DuckDB host lets statements in flight finish before it interrupts them,
 * ms: `BOLT_HOST_CLOSE_GRACE_MS`, default 5 s. Their callers get BOLT_CLOSED with
 * `hostClosing` (not applied), and a handle in another process re-runs them on the next host.
 */
export function hostCloseGraceMs(): number {
  return positive('BOLT_HOST_CLOSE_GRACE_MS', envInt('BOLT_HOST_CLOSE_GRACE_MS') ?? 5_000, 0);
}

/**
 * Silence after which a DuckDB client gives up on its host (waiting reads fail with
 * BOLT_HOST_UNRESPONSIVE, writes with BOLT_OUTCOME_UNKNOWN), ms: `BOLT_HOST_TIMEOUT_MS`, default 15 s.
 */
export function hostTimeoutMs(): number {
  return positive('BOLT_HOST_TIMEOUT_MS', envInt('BOLT_HOST_TIMEOUT_MS') ?? 15_000, 1);
}

/** Einstein's OpenAI-compatible embeddings endpoint: `BOLT_EMBED_URL`, `BOLT_EMBED_MODEL`, `BOLT_EMBED_API_KEY`. */
export function embedderEnv(): { url?: string; model?: string; apiKey?: string } {
  const e = (name: string) => process.env[name] || undefined;
  return { url: e('BOLT_EMBED_URL'), model: e('BOLT_EMBED_MODEL'), apiKey: e('BOLT_EMBED_API_KEY') };
}

/** `BOLT_HTTP_TOKEN`: the dashboard's token when `--http-token` is not given (undefined when unset or empty). */
export function httpTokenEnv(): string | undefined {
  return process.env.BOLT_HTTP_TOKEN || undefined;
}

/** Logging: `BOLT_LOG_LEVEL` (default `warn`) and `BOLT_LOG_FILE` (default: stderr). */
export function logEnv(): { level: string; file?: string } {
  return { level: process.env.BOLT_LOG_LEVEL || 'warn', file: process.env.BOLT_LOG_FILE || undefined };
}

/** `NO_COLOR` (any non-empty value): no colours in terminal output (https://no-color.org). */
export function noColor(): boolean {
  return Boolean(process.env.NO_COLOR);
}
