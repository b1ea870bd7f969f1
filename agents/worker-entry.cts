/**
 * The file piscina loads in each agent thread. piscina first calls `require()` on its
 * `filename`; on Node 20.19+ that loads an ES module synchronously (require(esm)), and in one
 * CI run of this project it aborted the whole test process (V8 fatal error "IsGraphAsync must
 * be used on an instantiated module", from piscina's `require` in a replacement worker). This
 * entry is CommonJS, so `require` loads it the ordinary way, and it loads the agent worker
 * (an ES module) with `import()` as soon as the thread starts.
 */
const handle = import('./worker.js').then((m) => m.default);
type Handle = Awaited<typeof handle>;

export = async function run(req: Parameters<Handle>[0]): ReturnType<Handle> {
  return (await handle)(req);
};
