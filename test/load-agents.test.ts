/**
 * What agent modules may define: each agent's fields read once (a `name` getter that changes
 * after the check had put an unchecked name in every claim, and nothing was claimed), at most
 * MAX_AGENTS_PER_RUNTIME agents (40,000 exceeded SQLite's statement parameters in every claim),
 * and `run` still called on the agent's own object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCode } from '../core/errors.js';
import { loadAgents, MAX_AGENTS_PER_RUNTIME } from '../agents/load-agents.js';
import { tempDir } from './helpers/tmp.js';

test('agent modules: fields read once, run called on its object, at most MAX_AGENTS_PER_RUNTIME agents', async (t) => {
  const dir = tempDir(t);
  const shifty = join(dir, 'shifty.mjs');
  writeFileSync(
    shifty,
    `let n = 0;
export default { get name() { return ++n <= 2 ? 'sneaky' : 12345; }, run() { return 1; } };`,
  );
  const loaded = await loadAgents([shifty]);
  assert.deepEqual([...loaded.keys()], ['sneaky']);
  const def = loaded.get('sneaky')!.def;
  assert.deepEqual([def.name, def.name], ['sneaky', 'sneaky'], 'the name checked is the name kept and described');
  const plain = join(dir, 'plain.mjs');
  writeFileSync(plain, `export default { name: 'plain', prefix: 'ran:', run(task) { return this.prefix + task.id; } };`);
  const a = (await loadAgents([plain])).get('plain')!;
  assert.equal(await a.def.run({ id: 7, agent: 'plain', payload: null, attempt: 1, maxAttempts: 1 }, {} as never), 'ran:7', 'run sees its own object as this');

  const many = join(dir, 'many.mjs');
  writeFileSync(many, `export const agents = Array.from({ length: ${MAX_AGENTS_PER_RUNTIME + 1} }, (_, i) => ({ name: 'a' + i, run() { return i; } }));`);
  await assert.rejects(loadAgents([many]), (e) => hasCode(e, 'BOLT_AGENT') && /more than 1000 agents/.test((e as Error).message));
});
