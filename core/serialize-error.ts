/**
 * Turns anything thrown (by an agent, a worker crash, the engine) into a `SerializedError`
 * that survives JSON, `v8.serialize` and a trip through the database.
 */
import { BoltError, type BoltErrorCode, type SerializedError } from './errors.js';

/** The longest error message kept, in characters; the rest is cut (a task's error is stored with it). */
export const MAX_ERROR_MESSAGE = 16 * 1024;
/** The most JSON text an error's details may take; past it (or when they are not JSON) they are replaced by a note. */
export const MAX_ERROR_DETAILS = 64 * 1024;

/** `s` cut to `max` characters, saying how long it was. */
function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} characters, cut)`;
}

/**
 * `e` bounded so it can always be stored and sent: message, name and code cut, details kept only
 * when they are JSON of at most MAX_ERROR_DETAILS. An agent's 50 MB message had been stored twice
 * (message and stack) per failure, and one whose details referred to themselves could not be
 * stored at all: the failure was never recorded and the task died of a lost lease instead.
 */
export function boundedError(e: SerializedError): SerializedError {
  const message = cut(String(e.message), MAX_ERROR_MESSAGE);
  const name = cut(String(e.name ?? 'Error'), 200);
  const code = (typeof e.code === 'string' ? cut(e.code, 100) : 'BOLT_TASK') as BoltErrorCode;
  let details: Record<string, unknown> = {};
  if (e.details !== undefined && e.details !== null) {
    let text: string | undefined;
    try {
      text = JSON.stringify(e.details);
    } catch (err) {
      details = { note: `the error's details could not be stored: ${cut((err as Error).message, 200)}` };
    }
    if (text !== undefined && text.length > MAX_ERROR_DETAILS) {
      const stack = (e.details as { stack?: unknown }).stack;
      details = {
        note: `the error's details took ${text.length} characters as JSON; not stored`,
        ...(typeof stack === 'string' ? { stack: cut(stack, 4096) } : {}),
      };
    } else if (text !== undefined) details = e.details;
  }
  return { name, code, message, details };
}

/** `e` as a SerializedError, bounded (see boundedError); errors that are not BoltErrors get `fallbackCode`. */
export function toSerializedError(e: unknown, fallbackCode: BoltErrorCode = 'BOLT_TASK'): SerializedError {
  return boundedError(serialize(e, fallbackCode));
}

function serialize(e: unknown, fallbackCode: BoltErrorCode): SerializedError {
  if (e instanceof BoltError) return e.toJSON();
  if (
    e &&
    typeof e === 'object' &&
    'code' in e &&
    'message' in e &&
    typeof (e as SerializedError).code === 'string' &&
    String((e as SerializedError).code).startsWith('BOLT_')
  ) {
    const s = e as SerializedError;
    return { name: s.name ?? 'BoltError', code: s.code, message: String(s.message), details: s.details ?? {} };
  }
  if (e instanceof Error) {
    const details: Record<string, unknown> = {};
    const code = (e as Error & { code?: unknown }).code;
    if (code !== undefined) details.cause = String(code);
    if (e.stack)
      details.stack = e.stack
        .split('\n', 8)
        .map((line) => cut(line, 1000))
        .join('\n');
    return { name: e.name, code: fallbackCode, message: e.message, details };
  }
  return { name: 'Error', code: fallbackCode, message: describeThrown(e), details: {} };
}

/** What a thrown value that is not an Error says: its `message`, else itself as JSON (`[object Object]` said nothing). */
function describeThrown(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e !== null && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
  let text: string | undefined;
  try {
    text = typeof e === 'bigint' ? String(e) : JSON.stringify(e);
  } catch {
    text = undefined;
  }
  const shown = text === undefined ? `a ${typeof e}` : text.length > 500 ? `${text.slice(0, 500)}…` : text;
  return `a value that is not an Error was thrown: ${shown}`;
}
