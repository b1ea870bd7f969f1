/** `echo`: returns its payload. The cheapest possible task (tests, benchmarks, soak). */
import type { AgentTask } from '../agent-contract.js';

export const name = 'echo';
export const description = 'returns its payload';

export function run(task: AgentTask): unknown {
  return task.payload;
}
