import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HashEmbedder, OpenAIEmbedder } from '../search/embedder.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';

function cosine(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d; // both are unit length
}

test('hash embedder is deterministic, unit length, and measures lexical similarity', { timeout: 10_000 }, async () => {
  const e = new HashEmbedder({ dim: 128 });
  const [a, a2, typo, other] = await e.embed([
    'retry the request with exponential backoff',
    'retry the request with exponential backoff',
    'retyr the reqest with exponentail backof',
    'render a pie chart of monthly sales',
  ]);
  assert.equal(a!.length, 128);
  assert.deepEqual(a, a2);
  assert.ok(Math.abs(cosine(a!, a!) - 1) < 1e-5);
  // a fresh instance gives bit-identical vectors (no hidden state, no randomness)
  assert.deepEqual((await new HashEmbedder({ dim: 128 }).embed(['retry the request with exponential backoff']))[0], a);
  assert.ok(cosine(a!, typo!) > cosine(a!, other!) + 0.2, `typo ${cosine(a!, typo!)} vs unrelated ${cosine(a!, other!)}`);
  const [ident, words] = await e.embed(['retryWithBackoff', 'retry with backoff']);
  assert.ok(cosine(ident!, words!) > 0.5, `identifier vs words ${cosine(ident!, words!)}`);
  assert.deepEqual(Array.from((await e.embed(['']))[0]!), new Array(128).fill(0));
  assert.notEqual(new HashEmbedder({ dim: 64 }).id, e.id);
  assert.throws(() => new HashEmbedder({ dim: 3 }), { code: 'BOLT_BAD_INPUT' });
});

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const c of req) s += c;
  return s;
}

/** A real local OpenAI-compatible embeddings server: vector = [len(text), index, 1]. */
async function startServer(t: import('node:test').TestContext, behaviour: 'ok' | 'error' | 'hang' = 'ok') {
  const seen: Array<{ url: string; auth: string | undefined; body: { model: string; input: string[] } }> = [];
  const server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as { model: string; input: string[] };
    seen.push({ url: req.url ?? '', auth: req.headers.authorization, body });
    if (behaviour === 'hang') return; // never answers
    if (behaviour === 'error') {
      res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"model not loaded"}');
      return;
    }
    // answer in reverse order with explicit indexes, as some servers do
    const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: [text.length, index, 1] })).reverse();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: body.model }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen };
}

test('OpenAI embedder posts batches to /v1/embeddings and orders vectors by index', { timeout: 10_000 }, async (t) => {
  const { url, seen } = await startServer(t);
  const e = await OpenAIEmbedder.create({ url, model: 'nomic-embed-text', apiKey: 'sk-test', batchSize: 2 });
  assert.equal(e.dim, 3); // probed from the server
  const vs = await e.embed(['a', 'bb', 'ccc']);
  assert.deepEqual(
    vs.map((v) => Array.from(v)),
    [
      [1, 0, 1],
      [2, 1, 1],
      [3, 0, 1],
    ],
  );
  assert.deepEqual(
    seen.slice(1).map((s) => s.body.input),
    [['a', 'bb'], ['ccc']],
  );
  assert.ok(seen.every((s) => s.url === '/v1/embeddings' && s.auth === 'Bearer sk-test' && s.body.model === 'nomic-embed-text'));
  assert.equal(e.id, 'openai:nomic-embed-text:3');
});

test('OpenAI embedder: server errors, wrong dimension and abort are typed errors', { timeout: 10_000 }, async (t) => {
  const bad = await startServer(t, 'error');
  await assert.rejects(new OpenAIEmbedder({ url: `${bad.url}/embeddings`, model: 'm', dim: 3 }).embed(['x']), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'BOLT_EMBEDDER');
    assert.match(err.message, /500.*model not loaded/);
    return true;
  });
  const ok = await startServer(t);
  await assert.rejects(new OpenAIEmbedder({ url: ok.url, model: 'm', dim: 8 }).embed(['x']), { code: 'BOLT_EMBEDDER' });
  const hang = await startServer(t, 'hang');
  const ac = new AbortController();
  const p = new OpenAIEmbedder({ url: hang.url, model: 'm', dim: 3 }).embed(['x'], { signal: ac.signal });
  while (hang.seen.length === 0) await new Promise((r) => setImmediate(r));
  ac.abort();
  await assert.rejects(p, { code: 'BOLT_ABORTED' });
  await assert.rejects(new OpenAIEmbedder({ url: hang.url, model: 'm', dim: 3, timeoutMs: 200 }).embed(['x']), /timed out/);
  assert.throws(() => new OpenAIEmbedder({ url: 'not a url', model: 'm', dim: 3 }), { code: 'BOLT_BAD_INPUT' });
});

test('EinsteinSearch indexes and searches through an OpenAI-compatible server (the embed(texts) path)', { timeout: 30_000 }, async (t) => {
  // the server embeds a text as its letter counts a..z: a real, if crude, embedding
  const seen: string[][] = [];
  const server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as { input: string[] };
    seen.push(body.input);
    const data = body.input.map((text, index) => {
      const v = new Array(26).fill(0);
      for (const ch of text.toLowerCase()) if (ch >= 'a' && ch <= 'z') v[ch.charCodeAt(0) - 97]++;
      return { index, embedding: v };
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const dir = tempDir(t);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'zzz.txt'), 'zzzz zzzz zzzz\n');
  writeFileSync(join(dir, 'src', 'aaa.txt'), 'aaaa aaaa aaaa\n');
  const embedder = new OpenAIEmbedder({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'letters', dim: 26 });
  const einstein = new EinsteinSearch(await openTestDb(t, join(dir, 'x.db')), { embedder });
  const r = await einstein.index(join(dir, 'src'));
  assert.equal(r.chunks, 2);
  assert.ok(
    seen.some((batch) => batch.some((text) => text.startsWith('zzz.txt\n'))),
    'chunks are embedded as "path\\ntext"',
  );
  const hits = await einstein.search('zz', { mode: 'vector', k: 2 });
  assert.deepEqual(
    hits.map((h) => h.path.split('/').pop()),
    ['zzz.txt', 'aaa.txt'],
  );
  assert.ok(hits[0]!.score > 0.9 && hits[1]!.score < 0.5, `cosines ${hits.map((h) => h.score)}`);
});
