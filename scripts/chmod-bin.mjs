// Marks the compiled `bolt` entry executable so `npx bolt` works from the repository root.
import { chmodSync, existsSync } from 'node:fs';
const bin = new URL('../dist/tools/bolt.js', import.meta.url);
if (existsSync(bin)) chmodSync(bin, 0o755);
