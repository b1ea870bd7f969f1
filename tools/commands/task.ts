/** `bolt task <id>`: one task in detail (payload, attempts, lease, result or error). */
import type { Command } from 'commander';
import { printJson, println } from '../cli-action.js';
import { taskDetails } from '../task-format.js';
import { registerTaskIdCommand } from '../queue-session.js';

export function register(program: Command): void {
  registerTaskIdCommand(program, 'task', 'show one task in detail', async (q, id, json) => {
    const t = await q.get(id);
    if (json) printJson(t);
    else for (const line of taskDetails(t)) println(line);
  });
}
