/**
 * A BoltIntegration in this process for a test: its own temp dir, the test agents
 * (agents-fixture.ts), fast timings; shut down when the test ends.
 */
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { tempDir } from './tmp.js';
import { writeTestAgents } from './agents-fixture.js';
import { BoltIntegration } from '../../core/runtime/bolt-integration.js';
import type { BoltOptions } from '../../core/config.js';

/** Starts a runtime of 2 agents on `<tempdir>/<file>` (DuckDB unless the name says otherwise); `o` overrides. */
export async function testRuntime(t: TestContext, o: BoltOptions & { file?: string } = {}): Promise<{ bolt: BoltIntegration; dir: string }> {
  const dir = tempDir(t);
  const { file = 'analytics.db', ...opts } = o;
  const bolt = new BoltIntegration({
    agents: 2,
    database: join(dir, file),
    agentModules: [writeTestAgents(dir)],
    leaseMs: 3000,
    heartbeatMs: 100,
    pollMs: 20,
    backoff: { baseMs: 20, capMs: 40 },
    abortGraceMs: 300,
    ...opts,
  });
  t.after(() => bolt.shutdown({ immediate: true }));
  await bolt.initialize();
  return { bolt, dir };
}
