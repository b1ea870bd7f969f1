/**
 * The layers of the source tree, bottom first, and the rule that holds them: a file imports
 * only from its own layer or the layers below (type-only imports included: they are
 * dependencies too). Engines sit side by side and never import each other. A source folder
 * that no layer names fails the test, so a new folder has to be placed here first.
 * docs/architecture.md describes each layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Layer {
  name: string;
  /** Folders (or single files) of this layer, relative to the repository root. */
  places: string[];
  /** Places of this layer that must not import each other (engines). */
  apart?: boolean;
}

export const LAYERS: Layer[] = [
  { name: 'contracts', places: ['core'] },
  { name: 'platform', places: ['storage/platform'] },
  { name: 'engine-common', places: ['adapters/shared'] },
  { name: 'embedded host', places: ['storage/host'] },
  { name: 'engines', places: ['adapters/duckdb', 'adapters/sqlite', 'adapters/postgres'], apart: true },
  { name: 'front door', places: ['storage'] },
  { name: 'search', places: ['search'] },
  { name: 'agents', places: ['agents'] },
  { name: 'runtime', places: ['core/runtime'] },
  { name: 'tools', places: ['tools'] },
  { name: 'public API', places: ['index.ts'] },
];

const SOURCE_ROOTS = ['index.ts', 'core', 'storage', 'adapters', 'search', 'agents', 'tools'];

function sources(path: string, out: string[] = []): string[] {
  const abs = join(root, path);
  if (path.endsWith('.ts')) return [...out, abs];
  for (const e of readdirSync(abs, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) sources(p, out);
    else if (/\.c?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(join(root, p));
  }
  return out;
}

/** The layer index and place of a repository-relative file: the longest place that holds it. */
function placeOf(file: string): { rank: number; place: string } | undefined {
  let best: { rank: number; place: string } | undefined;
  LAYERS.forEach((layer, rank) => {
    for (const place of layer.places) {
      if ((file === place || file.startsWith(`${place}/`)) && (!best || place.length > best.place.length)) best = { rank, place };
    }
  });
  return best;
}

/** Relative imports and re-exports of a file, type-only ones included. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm), ...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) =>
    relative(root, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts'))),
  );
}

test('every source file belongs to a layer', () => {
  const files = SOURCE_ROOTS.flatMap((r) => sources(r));
  assert.ok(files.length > 100, `found ${files.length} source files`);
  const homeless = files.map((f) => relative(root, f)).filter((f) => !placeOf(f));
  assert.deepEqual(homeless, [], 'files in no layer (add their folder to LAYERS)');
});

test('imports point down the layers, and engines do not import each other', () => {
  const wrong: string[] = [];
  for (const abs of SOURCE_ROOTS.flatMap((r) => sources(r))) {
    const file = relative(root, abs);
    const from = placeOf(file)!;
    for (const target of imports(abs)) {
      const to = placeOf(target);
      if (!to) continue; // outside the sources (package.json, say)
      const name = (p: { rank: number; place: string }) => `${LAYERS[p.rank]!.name} (${p.place})`;
      if (to.rank > from.rank) wrong.push(`${file} -> ${target}: ${name(from)} imports from the higher ${name(to)}`);
      else if (to.rank === from.rank && LAYERS[from.rank]!.apart && to.place !== from.place)
        wrong.push(`${file} -> ${target}: ${name(from)} imports ${to.place}`);
    }
  }
  assert.deepEqual(wrong, []);
});
