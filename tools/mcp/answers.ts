/**
 * How every `bolt mcp` tool answers: a result as JSON (text and structured content), a failure
 * as an MCP tool error with Bolt's code and message (never a stack trace), and rows cut at a
 * row or byte limit with the cut said in the answer.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { jsonSafe } from '../format-rows.js';

/** Rows and bytes of JSON an answer holds before it is cut. */
export const MAX_ROWS = 1_000;
export const MAX_BYTES = 512 * 1024;

/** A successful answer: `value` as JSON values (bigints beyond 2^53 and bytes as strings). */
export function ok(value: object): CallToolResult {
  const structured = jsonSafe(value) as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

/** A failed call: `isError`, `[CODE] message`, and `structuredContent.error` `{ code, message }`. */
export function failed(err: unknown): CallToolResult {
  const e = toSerializedError(err, 'BOLT_INTERNAL');
  return { isError: true, content: [{ type: 'text', text: `[${e.code}] ${e.message}` }], structuredContent: { error: { code: e.code, message: e.message } } };
}

/** Runs a tool's work and turns whatever it throws into a tool error. */
export async function answer(work: () => Promise<object>): Promise<CallToolResult> {
  try {
    return ok(await work());
  } catch (err) {
    return failed(err);
  }
}

/** The first rows that fit MAX_ROWS and MAX_BYTES of JSON; `truncated` when some were left out. */
export function limitRows(rows: readonly object[]): { rows: unknown[]; truncated: boolean } {
  const out: unknown[] = [];
  let bytes = 2;
  for (const r of rows) {
    const safe = jsonSafe(r);
    bytes += JSON.stringify(safe).length + 1;
    if (out.length >= MAX_ROWS || bytes > MAX_BYTES) return { rows: out, truncated: true };
    out.push(safe);
  }
  return { rows: out, truncated: false };
}
