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
  return { name: 'Error', code: fallbackCode, message: String(e), details: {} };
}
