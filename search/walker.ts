/**
 * Walks a directory tree for indexing: honours `.gitignore` files (nested ones too, with
 * git's precedence: the deepest file that has an opinion wins), never enters `.git`,
 * `node_modules` or `.bolt`, and skips symlinks (and FIFOs, sockets, devices), binary files, files over `maxFileBytes`
 * and any path listed in `exclude` (Einstein passes the database file and its companions:
 * closing a descriptor of one would drop this process's locks on it — excluded-files.ts).
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { AbortedError, BadInputError, PermissionError } from '../core/errors.js';
import { ExcludedFiles } from './excluded-files.js';
import { readRegularFile } from './regular-file.js';

/** Why the walk left a file out. */
export type WalkSkip = 'ignored' | 'binary' | 'huge' | 'excluded' | 'unreadable';

/** A file worth indexing. */
export interface WalkEntry {
  /** Path relative to the walk root, with `/` separators. */
  path: string;
  absPath: string;
  size: number;
  mtimeMs: number;
}

export interface WalkOptions {
  /** Files larger than this are skipped (default 1 MiB). */
  maxFileBytes?: number;
  /** Paths never to open (matched by real path and by device and inode; see excluded-files.ts). */
  exclude?: readonly string[];
  /** Directory names never entered (default: .git, node_modules, .bolt). */
  skipDirs?: readonly string[];
  /** Extra gitignore-style patterns applied at the root. */
  ignorePatterns?: readonly string[];
  signal?: AbortSignal;
  /** Called for each file skipped, with why (for progress reports and tests). */
  onSkip?: (path: string, reason: WalkSkip) => void;
  /**
   * Called for each directory below the root that cannot be listed (EACCES, ENAMETOOLONG, a
   * /proc entry that vanished…), with its relative path and the error code; the walk goes on
   * without it. The root itself failing is an error.
   */
  onUnreadableDir?: (path: string, code: string) => void;
}

export const DEFAULT_MAX_FILE_BYTES = 1024 * 1024;
export const DEFAULT_SKIP_DIRS: readonly string[] = ['.git', 'node_modules', '.bolt'];

/** Extensions that are binary (or database files) without looking inside. */
const BINARY_EXTENSIONS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'bmp',
  'ico',
  'webp',
  'tif',
  'tiff',
  'pdf',
  'zip',
  'gz',
  'tgz',
  'bz2',
  'xz',
  'zst',
  '7z',
  'rar',
  'jar',
  'war',
  'class',
  'exe',
  'dll',
  'so',
  'dylib',
  'o',
  'a',
  'lib',
  'node',
  'wasm',
  'bin',
  'dat',
  'db',
  'duckdb',
  'wal',
  'sqlite',
  'sqlite3',
  'parquet',
  'arrow',
  'mp3',
  'mp4',
  'mov',
  'avi',
  'ogg',
  'wav',
  'flac',
  'woff',
  'woff2',
  'ttf',
  'otf',
  'eot',
  'pyc',
  'map',
]);

const SNIFF_BYTES = 8000;

/** True when a buffer looks binary: it holds a NUL byte in its first 8,000 bytes. */
export function looksBinary(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, SNIFF_BYTES);
  for (let i = 0; i < n; i++) if (buf[i] === 0) return true;
  return false;
}

interface IgnoreLevel {
  /** Directory of the .gitignore, relative to the root ('' for the root). */
  dir: string;
  ig: Ignore;
}

function isIgnored(levels: readonly IgnoreLevel[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const { dir, ig } of levels) {
    const local = dir === '' ? rel : rel.slice(dir.length + 1);
    const r = ig.test(isDir ? `${local}/` : local);
    if (r.ignored) ignored = true;
    else if (r.unignored) ignored = false;
  }
  return ignored;
}

/** Yields indexable files under `root` in sorted, depth-first order. */
export async function* walk(root: string, opts: WalkOptions = {}): AsyncGenerator<WalkEntry> {
  const maxBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const skipDirs = new Set(opts.skipDirs ?? DEFAULT_SKIP_DIRS);
  const excluded = new ExcludedFiles(opts.exclude ?? []);
  const skip = opts.onSkip ?? (() => {});
  const base: IgnoreLevel[] = [];
  if (opts.ignorePatterns?.length) base.push({ dir: '', ig: ignore().add([...opts.ignorePatterns]) });

  async function* visit(absDir: string, relDir: string, levels: IgnoreLevel[]): AsyncGenerator<WalkEntry> {
    if (opts.signal?.aborted) throw new AbortedError('Walk aborted', { root });
    // Read like any file (never through a link, never blocking on a FIFO, within the size
    // limit): a .gitignore that is anything else is not applied, as git does not follow links.
    const raw = await readRegularFile(join(absDir, '.gitignore'), { maxBytes, excluded });
    const gitignore = typeof raw === 'string' ? undefined : raw.toString('utf8');
    const here = gitignore === undefined ? levels : [...levels, { dir: relDir, ig: ignore().add(gitignore) }];
    let dirents;
    try {
      dirents = await readdir(absDir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (relDir === '') {
        const details = { path: root, errno: code };
        if (code === 'EACCES' || code === 'EPERM') throw new PermissionError(`Cannot list ${root}: permission denied`, details);
        throw new BadInputError(`Cannot list ${root}: ${code}`, details);
      }
      opts.onUnreadableDir?.(relDir, code);
      return;
    }
    dirents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const d of dirents) {
      const abs = join(absDir, d.name);
      const rel = relDir === '' ? d.name : `${relDir}/${d.name}`;
      if (d.isDirectory()) {
        if (skipDirs.has(d.name) || isIgnored(here, rel, true)) continue;
        yield* visit(abs, rel, here);
        continue;
      }
      if (!d.isFile()) continue; // symlinks, sockets, fifos
      if (isIgnored(here, rel, false)) {
        skip(rel, 'ignored');
        continue;
      }
      if (excluded.has(abs)) {
        skip(rel, 'excluded');
        continue;
      }
      const st = await lstat(abs).catch(() => undefined);
      if (!st) {
        skip(rel, 'unreadable'); // vanished, a name too long, not valid UTF-8 (so not found)…
        continue;
      }
      if (!st.isFile()) continue; // no longer a regular file
      if (excluded.has(abs, st)) {
        skip(rel, 'excluded');
        continue;
      }
      if (st.size > maxBytes) {
        skip(rel, 'huge');
        continue;
      }
      const dot = d.name.lastIndexOf('.');
      const ext = dot > 0 ? d.name.slice(dot + 1).toLowerCase() : '';
      if (BINARY_EXTENSIONS.has(ext)) {
        skip(rel, 'binary');
        continue;
      }
      if (st.size > 0) {
        const head = await readRegularFile(abs, { maxBytes, prefix: SNIFF_BYTES, excluded });
        if (head === 'not-regular') continue; // replaced by a link, FIFO or device meanwhile
        if (typeof head === 'string') {
          skip(rel, head);
          continue;
        }
        if (looksBinary(head)) {
          skip(rel, 'binary');
          continue;
        }
      }
      yield { path: rel, absPath: abs, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
    }
  }

  yield* visit(root, '', base);
}
