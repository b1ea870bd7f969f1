/**
 * Embedders turn texts into fixed-length vectors for Einstein's vector search.
 *
 * - `HashEmbedder` (the default) needs no network and no model weights. It is a hashed
 *   bag of features: every term from the code-aware tokenizer (whole identifiers and their
 *   sub-words) plus the character trigrams of each term, folded into `dim` buckets with a
 *   sign hash, weighted 1 + ln(tf) and L2-normalised. Cosine similarity between two such
 *   vectors measures LEXICAL overlap — robust to typos, plural forms and partial
 *   identifiers (`retryBackoff` vs `backoff retries`) — NOT meaning: "remove" will not find
 *   "delete". Use a real model through `OpenAIEmbedder` for semantic search.
 * - `OpenAIEmbedder` calls any OpenAI-compatible `POST /v1/embeddings` endpoint (Ollama,
 *   llama.cpp server, vLLM, a hosted API).
 */
import { EmbedderError, AbortedError, BadInputError } from '../core/errors.js';
import { fnv1a32 } from './hash.js';
import { tokenize } from './tokenizer.js';

/** What Einstein needs from an embedding model. */
export interface Embedder {
  /** Length of every vector. */
  readonly dim: number;
  /** Names the model and its settings; stored with the index so vectors of different models never mix. */
  readonly id: string;
  /** One vector per text, in order. */
  embed(texts: readonly string[], opts?: { signal?: AbortSignal }): Promise<Float32Array[]>;
  /**
   * Optional fast path for embedders built on Einstein's tokenizer: vectors from already
   * tokenized texts. Must equal `embed()` of the texts the terms came from.
   */
  embedTerms?(termLists: ReadonlyArray<readonly string[]>): Float32Array[];
}

/**
 * Scales `v` to unit length in place (a zero vector stays zero). Einstein stores and queries
 * unit vectors only, so cosine similarity is a plain inner product whatever the embedder.
 */
export function normalize(v: Float32Array): Float32Array {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  if (norm > 0 && Math.abs(norm - 1) > 1e-6) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

export interface HashEmbedderOptions {
  /** Vector length (default 256). */
  dim?: number;
  /** Weight of character trigrams relative to whole terms (default 0.5). */
  trigramWeight?: number;
}

/** The default, deterministic, offline embedder (see the module comment for what it is). */
export class HashEmbedder implements Embedder {
  readonly dim: number;
  readonly id: string;
  private readonly trigramWeight: number;

  constructor(opts: HashEmbedderOptions = {}) {
    this.dim = opts.dim ?? 256;
    this.trigramWeight = opts.trigramWeight ?? 0.5;
    if (!Number.isInteger(this.dim) || this.dim < 8 || this.dim > 4096) {
      throw new BadInputError(`Embedding dimension must be an integer between 8 and 4096, got ${this.dim}`, { dim: this.dim });
    }
    this.id = `hash-v1:${this.dim}:${this.trigramWeight}`;
  }

  /** Each term's (bucket, signed weight) features, memoised: vocabularies repeat. */
  private readonly featureCache = new Map<string, { idx: Uint32Array; val: Float32Array }>();

  private features(term: string): { idx: Uint32Array; val: Float32Array } {
    let f = this.featureCache.get(term);
    if (f) return f;
    const padded = `^${term}$`;
    const n = 1 + Math.max(0, padded.length - 2);
    f = { idx: new Uint32Array(n), val: new Float32Array(n) };
    const put = (i: number, feature: string, weight: number) => {
      const h = fnv1a32(feature);
      f!.idx[i] = h % this.dim;
      f!.val[i] = (h & 0x80000000) !== 0 ? -weight : weight;
    };
    put(0, `w\u0001${term}`, 1);
    for (let i = 0; i + 3 <= padded.length; i++) put(i + 1, padded.slice(i, i + 3), this.trigramWeight);
    if (this.featureCache.size >= 200_000) this.featureCache.clear();
    this.featureCache.set(term, f);
    return f;
  }

  /** The vector of one tokenized text. */
  embedTermList(terms: readonly string[]): Float32Array {
    const counts = new Map<string, number>();
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    const v = new Float32Array(this.dim);
    for (const [term, tf] of counts) {
      const w = 1 + Math.log(tf);
      const { idx, val } = this.features(term);
      for (let i = 0; i < idx.length; i++) v[idx[i]!]! += w * val[i]!;
    }
    return normalize(v);
  }

  /** Synchronous core of `embed`, for callers that batch themselves. */
  embedOne(text: string): Float32Array {
    return this.embedTermList(tokenize(text));
  }

  embedTerms(termLists: ReadonlyArray<readonly string[]>): Float32Array[] {
    return termLists.map((t) => this.embedTermList(t));
  }

  async embed(texts: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    if (opts.signal?.aborted) throw new AbortedError('Embedding aborted');
    return texts.map((t) => this.embedOne(t));
  }
}

export interface OpenAIEmbedderOptions {
  /** Base URL (`http://localhost:11434/v1`) or the full `/v1/embeddings` URL. */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Vector length; when omitted, `OpenAIEmbedder.create` asks the server once. */
  dim: number;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
}

interface EmbeddingsResponse {
  data?: Array<{ embedding?: unknown; index?: number }>;
}

/** Calls an OpenAI-compatible `/v1/embeddings` endpoint. */
export class OpenAIEmbedder implements Embedder {
  readonly dim: number;
  readonly id: string;
  private readonly endpoint: string;

  constructor(private readonly opts: OpenAIEmbedderOptions) {
    this.endpoint = OpenAIEmbedder.endpointOf(opts.url);
    this.dim = opts.dim;
    if (!Number.isInteger(this.dim) || this.dim < 1) throw new BadInputError(`Embedding dimension must be a positive integer, got ${opts.dim}`);
    this.id = `openai:${opts.model}:${this.dim}`;
  }

  /** Builds an embedder, asking the server for the vector length when `dim` is not given. */
  static async create(opts: Omit<OpenAIEmbedderOptions, 'dim'> & { dim?: number; signal?: AbortSignal }): Promise<OpenAIEmbedder> {
    if (opts.dim !== undefined) return new OpenAIEmbedder({ ...opts, dim: opts.dim });
    const probe = await OpenAIEmbedder.request(OpenAIEmbedder.endpointOf(opts.url), opts, ['dimension probe'], opts.signal);
    return new OpenAIEmbedder({ ...opts, dim: probe[0]!.length });
  }

  private static endpointOf(url: string): string {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new BadInputError(`Not a valid embeddings URL: ${url}`, { url });
    }
    if (!u.pathname.endsWith('/embeddings')) u.pathname = `${u.pathname.replace(/\/+$/, '')}/embeddings`;
    return u.toString();
  }

  async embed(texts: readonly string[], opts: { signal?: AbortSignal } = {}): Promise<Float32Array[]> {
    const batch = Math.max(1, this.opts.batchSize ?? 64);
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const part = await OpenAIEmbedder.request(this.endpoint, this.opts, texts.slice(i, i + batch), opts.signal);
      for (const v of part) {
        if (v.length !== this.dim) {
          throw new EmbedderError(`Embedding server returned vectors of length ${v.length}, expected ${this.dim}`, {
            endpoint: this.endpoint,
            model: this.opts.model,
          });
        }
        out.push(v);
      }
    }
    return out;
  }

  private static async request(
    endpoint: string,
    opts: { model: string; apiKey?: string; timeoutMs?: number },
    input: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<Float32Array[]> {
    if (signal?.aborted) throw new AbortedError('Embedding aborted');
    const timeout = AbortSignal.timeout(opts.timeoutMs ?? 60_000);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.apiKey) headers.authorization = `Bearer ${opts.apiKey}`;
    let res: Response;
    try {
      res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ model: opts.model, input }), signal: combined });
    } catch (err) {
      if (signal?.aborted) throw new AbortedError('Embedding aborted');
      const why = timeout.aborted ? `timed out after ${opts.timeoutMs ?? 60_000} ms` : (err as Error).message;
      throw new EmbedderError(`Embedding request to ${endpoint} failed: ${why}. Check that the server is running and the URL is right.`, { endpoint });
    }
    const body = await res.text();
    if (!res.ok) {
      throw new EmbedderError(`Embedding server answered ${res.status}: ${body.slice(0, 300)}`, { endpoint, status: res.status, model: opts.model });
    }
    let parsed: EmbeddingsResponse;
    try {
      parsed = JSON.parse(body) as EmbeddingsResponse;
    } catch {
      throw new EmbedderError(`Embedding server answered with something that is not JSON: ${body.slice(0, 200)}`, { endpoint });
    }
    const data = parsed.data;
    if (!Array.isArray(data) || data.length !== input.length) {
      throw new EmbedderError(`Embedding server returned ${Array.isArray(data) ? data.length : 'no'} vectors for ${input.length} inputs`, { endpoint });
    }
    const vectors: Float32Array[] = new Array(input.length);
    data.forEach((d, i) => {
      const e = d.embedding;
      if (!Array.isArray(e) || !e.every((x) => typeof x === 'number')) {
        throw new EmbedderError('Embedding server returned an embedding that is not an array of numbers', { endpoint });
      }
      vectors[typeof d.index === 'number' ? d.index : i] = Float32Array.from(e as number[]);
    });
    if (vectors.some((v) => v === undefined)) throw new EmbedderError('Embedding server returned duplicate indexes', { endpoint });
    return vectors;
  }
}
