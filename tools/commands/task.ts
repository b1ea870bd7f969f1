/**
 * `bolt task <id>`: one task in detail (payload, attempts, lease, result or error) and the
 * graph around it: the tasks it depends on and the tasks that depend on it.
 */
import type { Command } from 'commander';
import { printJson, println } from '../cli-action.js';
import { graphLines, taskDetails } from '../task-format.js';
import { registerTaskIdCommand } from '../queue-session.js';

export function register(program: Command): void {
  registerTaskIdCommand(
    program,
    'task',
    'show one task in detail',
    async (q, id, json) => {
      const t = await q.get(id);
      const graph = await q.graph(id);
      if (json) printJson({ ...t, dependsOn: graph.parents, dependants: graph.dependants });
      else for (const line of [...taskDetails(t), ...graphLines(t, graph)]) println(line);
    },
    { read: true },
  );
}
