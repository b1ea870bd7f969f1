/**
 * The built-in agents every runtime loads before user modules. Other features add theirs
 * (the search issue adds `index` and `search`) by listing a module here or by calling
 * `registerBuiltinAgentModule` before a runtime starts.
 */
const builtins: string[] = [
  new URL('./builtin/echo.js', import.meta.url).href,
  new URL('./builtin/sleep.js', import.meta.url).href,
  new URL('./builtin/sql.js', import.meta.url).href,
  new URL('./builtin/einstein.js', import.meta.url).href,
];

/** Module URLs of the built-in agents. */
export function builtinAgentModules(): string[] {
  return [...builtins];
}

/** Adds a module of built-in agents (a file URL) for runtimes started after this call. */
export function registerBuiltinAgentModule(url: string): void {
  if (!builtins.includes(url)) builtins.push(url);
}
