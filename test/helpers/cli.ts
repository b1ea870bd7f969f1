/**
 * Runs the real `bolt` command line in a child process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { printableLines } from '../../tools/format.js';

/** Absolute path of the compiled `bolt` entry. */
export const BOLT_BIN = fileURLToPath(new URL('../../tools/bolt.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `bolt ...args` and resolves when it exits (killed after `timeoutMs`). */
export function runBolt(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BOLT_BIN, ...args], {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * The error a failing `--json` command printed: stdout must be exactly one JSON object
 * `{"error": {"code", "message"}}`, and stderr the same error as its usual line (escaped for a terminal).
 */
export function jsonError(r: CliResult): { code: string; message: string } {
  const out = JSON.parse(r.stdout) as { error?: { code: string; message: string } };
  assert.deepEqual(Object.keys(out), ['error'], r.stdout);
  const { code, message } = out.error!;
  assert.ok(r.stderr.startsWith(`error [${code}]: ${printableLines(message)}\n`), `stderr says the same (escaped): ${r.stderr}`);
  return { code, message };
}
