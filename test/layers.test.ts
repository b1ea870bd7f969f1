/**
 * The layers of the source tree, bottom first, and the rule that holds them: a file imports
 * only from its own layer or the layers below (type-only imports included: they are
 * dependencies too). Engines sit side by side and never import each other. A source folder
 * that no layer names fails the test, so a new folder has to be placed here first.
 * docs/architecture.md describes each layer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { REPO_ROOT as root, relativeImports, tsFiles } from './helpers/source-imports.js';

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

test('every source file belongs to a layer', () => {
  const files = SOURCE_ROOTS.flatMap((r) => tsFiles(join(root, r)));
  assert.ok(files.length > 100, `found ${files.length} source files`);
  const homeless = files.map((f) => relative(root, f)).filter((f) => !placeOf(f));
  assert.deepEqual(homeless, [], 'files in no layer (add their folder to LAYERS)');
});

test('imports point down the layers, and engines do not import each other', () => {
  const wrong: string[] = [];
  for (const abs of SOURCE_ROOTS.flatMap((r) => tsFiles(join(root, r)))) {
    const file = relative(root, abs);
    const from = placeOf(file)!;
    for (const target of relativeImports(abs, { typeOnly: true }).map((t) => relative(root, t))) {
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
