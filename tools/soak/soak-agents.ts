/**
 * The soak's agents, loaded by every soak runtime as an agent module:
 * - `soak-record` records each execution of a task in `soak_task_runs` (one row per run, so
 *   a task run twice after a lease expired shows up as two rows);
 * - `soak-crash` crashes its agent on purpose: a throw, `process.exit` inside the worker, or
 *   an endless loop past the task's timeout (the `kill-agent` fault);
 * - `soak-warm` opens its agent's `ctx.db` with a read and stays busy `payload.ms`, so that a
 *   process's warm-up (soak-process.ts) reaches every agent.
 */
import type { AgentDefinition } from '../../agents/agent-contract.js';

const record: AgentDefinition<{ key: string }> = {
  name: 'soak-record',
  description: 'records one execution of a soak task',
  async run(task, ctx) {
    await ctx.db.execute('INSERT INTO soak_task_runs (task_key, runner) VALUES (?, ?)', [task.payload.key, `${ctx.agentId}#${task.attempt}`], {
      requestId: `run:${task.payload.key}:${task.attempt}`,
    });
    return { key: task.payload.key };
  },
};

const crash: AgentDefinition<{ how: 'throw' | 'exit' | 'hang' }> = {
  name: 'soak-crash',
  description: 'crashes its agent on purpose (throw, process.exit, endless loop)',
  run(task) {
    if (task.payload.how === 'exit') process.exit(70);
    if (task.payload.how === 'hang') for (;;);
    throw new Error('soak-crash: thrown on purpose');
  },
};

const warm: AgentDefinition<{ ms: number }> = {
  name: 'soak-warm',
  description: "opens its agent's database with a read, then stays busy for payload.ms",
  async run(task, ctx) {
    await ctx.db.query('SELECT count(*) AS n FROM soak_task_runs');
    await new Promise((resolve) => setTimeout(resolve, task.payload.ms));
    return null;
  },
};

export const agents = [record, crash, warm];
