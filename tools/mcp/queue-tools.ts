/**
 * The durable queue's tools of `bolt mcp`, so a model can hand work to `bolt start` agents and
 * follow it: `task_status` and `list_tasks` always; `submit_task` and `cancel_task` only with
 * `--allow-writes`. A submit carries an idempotency key (the task's dedupe key), so a client that
 * retries after a timeout creates one task. The read tools never create the queue's tables: on
 * a database without them there are no tasks.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { TaskQueue } from '../../core/runtime/task-queue.js';
import { TASK_STATUSES } from '../../core/runtime/task-states.js';
import { answer, limitRows } from './answers.js';
import { tableExists } from './catalog.js';
import { idempotencyKey, idempotencyKeyArg, type McpContext } from './context.js';
import { sharedUntilFailure } from '../../core/shared-until-failure.js';

const taskId = z.number().int().min(1).describe('task id');

export function registerQueueTools(server: McpServer, c: McpContext): void {
  const queue = new TaskQueue(c.db);
  let exists = false;
  /** The queue when its tables exist (a read never creates them). */
  const readable = async (): Promise<TaskQueue | undefined> => ((exists ||= await tableExists(c.db, 'bolt_tasks')) ? queue : undefined);
  const schema = sharedUntilFailure(() => queue.ensureSchema());
  /** The queue, its tables created on first use (only with --allow-writes). */
  const writable = async (): Promise<TaskQueue> => {
    await schema();
    return queue;
  };

  server.registerTool(
    'task_status',
    {
      description: 'One task of the durable queue: its status (queued, running, failed, done, dead, cancelled), attempts, times, result or error.',
      inputSchema: { id: taskId },
      annotations: { readOnlyHint: true },
    },
    ({ id }) =>
      answer(async () => {
        const q = await readable();
        if (!q) throw new NotFoundError(`No task with id ${id}`, { id });
        return q.get(id);
      }),
  );

  server.registerTool(
    'list_tasks',
    {
      description: 'Tasks of the durable queue, newest first, filtered by status, agent or text in their payload, result or error.',
      inputSchema: {
        status: z.array(z.enum(TASK_STATUSES)).max(TASK_STATUSES.length).optional().describe('only these statuses'),
        agent: z.string().min(1).max(100).optional(),
        text: z.string().min(1).max(1000).optional().describe('text the payload, result or error contains (case-insensitive)'),
        limit: z.number().int().min(1).max(1000).optional().describe('default 50'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ status, agent, text, limit }) =>
      answer(async () => {
        const q = await readable();
        const tasks = q ? await q.list({ status, agent, text, limit: limit ?? 50 }) : [];
        const { rows, truncated } = limitRows(tasks);
        return { tasks: rows, truncated };
      }),
  );

  if (!c.allowWrites) return;

  server.registerTool(
    'submit_task',
    {
      description:
        'Adds a task for an agent of the `bolt start` runtimes sharing this database (built in: echo, sleep, sql). Created once per idempotency key: a retried call returns the same task.',
      inputSchema: {
        agent: z.string().min(1).max(100).describe('agent name'),
        payload: z.unknown().optional().describe("the agent's input (JSON)"),
        priority: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('higher runs first (default 0)'),
        maxAttempts: z.number().int().min(1).max(1000).optional().describe('attempts before the task goes dead (default 3)'),
        timeoutMs: z.number().int().min(1).optional().describe('per-attempt timeout'),
        delayMs: z.number().int().min(0).optional().describe('do not start before this many ms from now'),
        idempotencyKey: idempotencyKeyArg,
      },
      annotations: { idempotentHint: true },
    },
    ({ agent, payload, priority, maxAttempts, timeoutMs, delayMs, idempotencyKey: key }, extra) =>
      answer(async () => {
        const q = await writable();
        const r = await q.submit(agent, payload ?? null, { priority, maxAttempts, timeoutMs, delayMs, dedupeKey: idempotencyKey(c, key, extra) });
        return { id: r.id, deduplicated: r.deduplicated };
      }),
  );

  server.registerTool(
    'cancel_task',
    {
      description: 'Cancels a queued, failed or running task (a running one is aborted by its runtime within about a second).',
      inputSchema: { id: taskId },
      annotations: { destructiveHint: true },
    },
    ({ id }) =>
      answer(async () => {
        const { task, wasRunningOn } = await (await writable()).cancel(id);
        return { task, wasRunningOn };
      }),
  );
}
