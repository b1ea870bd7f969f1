/**
 * Whole-number option values of the command line, checked the same way everywhere: a typed
 * BOLT_BAD_INPUT naming the option and the allowed range for anything else.
 */
import { BadInputError } from '../core/errors.js';

/** `text` as a whole number in [min, max], or BOLT_BAD_INPUT naming `name`. */
export function parseInteger(name: string, text: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\s*-?\d+\s*$/.test(text) ? Number(text) : Number.NaN; // digits only: not 0x10, 1e3
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new BadInputError(`${name} must be a whole number ${range}, not ${JSON.stringify(text)}`, { option: name, value: text });
  }
  return n;
}

/** A commander option parser for whole numbers in [min, max]. */
export function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  return (text) => parseInteger(name, text, min, max);
}
