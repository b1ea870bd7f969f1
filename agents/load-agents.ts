/**
 * Loads agent modules (JavaScript or TypeScript) and collects their agent definitions.
 * TypeScript goes through tsx's `tsImport`, so users need no build step. Runs inside worker
 * threads (and in the describe step that validates modules before the runtime starts).
 */
import { AGENT_NAME, AGENT_NAME_RULE } from '../core/agent-name.js';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { AgentError, BadInputError } from '../core/errors.js';
import type { AgentDefinition } from './agent-contract.js';

export interface LoadedAgent {
  def: AgentDefinition;
  /** The module it came from (as given). */
  module: string;
}

/** Turns a user path (relative to cwd) or URL into an absolute file URL; checks it exists. */
export function resolveModuleSpecifier(spec: string, cwd = process.cwd()): string {
  if (spec.startsWith('file:')) return spec;
  const abs = isAbsolute(spec) ? spec : resolve(cwd, spec);
  if (!existsSync(abs)) throw new BadInputError(`Agent module not found: ${abs}`, { module: spec });
  if (!/\.(m?js|cjs|m?ts|cts)$/.test(abs)) {
    throw new BadInputError(`Agent module must be a .js, .mjs, .cjs, .ts, .mts or .cts file: ${abs}`, { module: spec });
  }
  return pathToFileURL(abs).href;
}

async function importModule(url: string): Promise<Record<string, unknown>> {
  if (/\.(m|c)?ts$/.test(url)) {
    const { tsImport } = await import('tsx/esm/api');
    return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
  }
  return (await import(url)) as Record<string, unknown>;
}

function isAgent(x: unknown): x is AgentDefinition {
  return !!x && typeof x === 'object' && typeof (x as AgentDefinition).name === 'string' && typeof (x as AgentDefinition).run === 'function';
}

/** The agent definitions a module exports (see agent-contract.ts for the accepted shapes). */
export function agentsOf(mod: Record<string, unknown>): AgentDefinition[] {
  const found: AgentDefinition[] = [];
  if (Array.isArray(mod.agents)) found.push(...mod.agents.filter(isAgent));
  const dflt = mod.default as Record<string, unknown> | undefined;
  if (isAgent(dflt)) found.push(dflt);
  else if (dflt && Array.isArray(dflt.agents)) found.push(...dflt.agents.filter(isAgent));
  if (typeof mod.name === 'string' && typeof mod.run === 'function') {
    found.push({ name: mod.name, description: typeof mod.description === 'string' ? mod.description : undefined, run: mod.run as AgentDefinition['run'] });
  }
  // A CommonJS-style module (e.g. .ts outside a "type": "module" package) shows the same
  // exports both as named exports and on `default`: keep each agent once.
  const seen = new Set<unknown>();
  return found.filter((d) => (seen.has(d.run) ? false : (seen.add(d.run), true)));
}

function display(url: string): string {
  return url.startsWith('file:') ? fileURLToPath(url) : url;
}

/** The most agents one runtime's modules may define (built-in ones included). */
export const MAX_AGENTS_PER_RUNTIME = 1000;

/** Loads every module; throws `BOLT_AGENT` naming the module that failed and why. */
export async function loadAgents(modules: readonly string[]): Promise<Map<string, LoadedAgent>> {
  const out = new Map<string, LoadedAgent>();
  for (const m of modules) {
    let mod: Record<string, unknown>;
    try {
      mod = await importModule(m);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new AgentError(`Agent module ${display(m)} failed to load: ${msg}`, { module: display(m) });
    }
    const defs = agentsOf(mod);
    if (defs.length === 0) {
      throw new AgentError(`Agent module ${display(m)} exports no agent: export \`name\` and \`run(task, ctx)\` (or a default { name, run })`, {
        module: display(m),
      });
    }
    for (const found of defs) {
      // Each field read once: a `name` getter could pass this check and later say another name
      // (one that then broke every claim).
      const { name, description, run } = found;
      const def: AgentDefinition = {
        name,
        description: typeof description === 'string' ? description : undefined,
        // Called on the agent's own object, as before: its `run` may use `this`.
        run: (task, ctx) => run.call(found, task, ctx),
      };
      if (typeof name !== 'string' || typeof run !== 'function' || !AGENT_NAME.test(name)) {
        // Tasks could never be submitted to it.
        throw new AgentError(
          `Agent module ${display(m)} names an agent ${JSON.stringify(String(def.name).slice(0, 100))}: agent names are ${AGENT_NAME_RULE}`,
          {
            module: display(m),
          },
        );
      }
      const prev = out.get(def.name);
      if (prev) {
        throw new AgentError(`Agent ${JSON.stringify(def.name)} is defined twice: in ${display(prev.module)} and ${display(m)}`, {
          agent: def.name,
        });
      }
      out.set(def.name, { def, module: m });
      if (out.size > MAX_AGENTS_PER_RUNTIME) {
        // Every claim names them all: 40,000 exceeded SQLite's statement parameters, and nothing was claimed.
        throw new AgentError(`The agent modules define more than ${MAX_AGENTS_PER_RUNTIME} agents (one runtime claims for at most that many)`, {
          module: display(m),
        });
      }
    }
  }
  return out;
}
