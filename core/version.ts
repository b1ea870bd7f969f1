import { readFileSync } from 'node:fs';

/** Bolt's package version, read once from package.json. */
export const BOLT_VERSION: string = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
