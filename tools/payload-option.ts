/**
 * The `--payload` option of `bolt submit` and `bolt schedule set`: JSON, or `@FILE` for JSON read
 * from a file (`@-`: standard input), for payloads longer than one command-line argument may be
 * (128 KiB on Linux). JSON never starts with `@`. A file must be a regular file of at most
 * MAX_PAYLOAD_FILE_BYTES, and standard input is read up to that much: `@/dev/zero`, a FIFO
 * nobody writes or `yes | bolt submit … --payload @-` are refused instead of hanging or filling
 * memory.
 */
import { readFileSync, statSync } from 'node:fs';
import { BadInputError, NotFoundError } from '../core/errors.js';

/** The most a payload read from a file or standard input may hold. */
export const MAX_PAYLOAD_FILE_BYTES = 64 * 1024 * 1024;

function tooBig(what: string): BadInputError {
  return new BadInputError(`--payload ${what} holds more than ${MAX_PAYLOAD_FILE_BYTES / 1024 / 1024} MiB`, { limit: MAX_PAYLOAD_FILE_BYTES });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_PAYLOAD_FILE_BYTES) {
      process.stdin.destroy();
      throw tooBig('@-');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function readPayloadFile(option: string, file: string): string {
  let st;
  try {
    st = statSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`--payload ${option}: no such file`, { path: file });
    throw new BadInputError(`--payload ${option}: cannot read it (${code ?? (e as Error).message})`, { path: file });
  }
  if (!st.isFile()) throw new BadInputError(`--payload ${option}: not a regular file`, { path: file });
  if (st.size > MAX_PAYLOAD_FILE_BYTES) throw tooBig(option);
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new BadInputError(`--payload ${option}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { path: file });
  }
}

/** The payload a `--payload` option gives (absent: null); BOLT_BAD_INPUT when it is not JSON, BOLT_NOT_FOUND for a missing file. */
export async function parsePayload(s: string | undefined): Promise<unknown> {
  if (s === undefined) return null;
  const text = !s.startsWith('@') ? s : s === '@-' ? await readStdin() : readPayloadFile(s, s.slice(1));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BadInputError(`--payload${text === s ? '' : ` ${s}`} is not valid JSON: ${(e as Error).message}`, { payload: text.slice(0, 200) });
  }
}
