/** `bolt retry <id>`: redrives a dead (or cancelled) task with a fresh set of attempts. */
import type { Command } from 'commander';
import { printJson, println } from '../cli-action.js';
import { registerTaskIdCommand } from '../queue-session.js';

export function register(program: Command): void {
  registerTaskIdCommand(program, 'retry', 'redrive a dead or cancelled task: queued again with fresh attempts', async (q, id, json) => {
    const t = await q.retry(id);
    if (json) printJson(t);
    else println(`task ${id} queued again (${t.agent}, ${t.maxAttempts} attempts)`);
  });
}
