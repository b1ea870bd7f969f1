/**
 * Turns anything thrown (by an agent, a worker crash, the engine) into a `SerializedError`
 * that survives JSON, `v8.serialize` and a trip through the database.
 */
import { BoltError, type BoltErrorCode, type SerializedError } from './errors.js';

/** `e` as a SerializedError; errors that are not BoltErrors get `fallbackCode`. */
export function toSerializedError(e: unknown, fallbackCode: BoltErrorCode = 'BOLT_TASK'): SerializedError {
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
    if (e.stack) details.stack = e.stack.split('\n').slice(0, 8).join('\n');
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
