/**
 * The search statement: BM25 over the postings and/or cosine similarity over the vectors,
 * each cut to its top `depth` candidates, fused (hybrid: reciprocal-rank fusion, k = 60),
 * the best `k` joined to chunk text and file path, plus the index version — all in ONE statement, so a search reads one consistent snapshot of the
 * index however many indexers commit meanwhile.
 *
 * BM25 (Robertson/Sparck Jones with Lucene's non-negative idf), summed over distinct query terms:
 *   idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
 *   score(c) = Σ idf(t) · tf(t,c) · (k1 + 1) / (tf(t,c) + k1 · (1 - b + b · len(c) / avglen))
 * with N = number of chunks, avglen = mean chunk length in terms, k1 = 1.2, b = 0.75.
 * df and N are over the whole index even when a path filter narrows the candidates.
 */
import { CHUNK_ID_STRIDE, type EinsteinDialect } from './dialect.js';
import { checkInt, MAX_DEPTH, MAX_K } from './options.js';

/** The reciprocal-rank-fusion constant (Cormack et al. 2009). */
export const RRF_K = 60;

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export interface SearchSqlInput {
  /** Term ids of the distinct query terms (empty: no BM25 list). */
  termIds: readonly number[];
  /** Query vector (undefined: no vector list). */
  vector?: Float32Array;
  /** Candidates taken from each list. */
  depth: number;
  /** Hits returned (after fusion). */
  k: number;
  /** Restrict candidates to these file ids (undefined: no restriction). */
  fileIds?: readonly number[];
}

/** A candidate row as the statement returns it. */
export type CandidateRow = {
  version: bigint | number;
  chunk_id: bigint | number | null;
  bm25_rank: bigint | number | null;
  bm25_score: number | null;
  vector_rank: bigint | number | null;
  vector_score: number | null;
  /** hybrid: RRF score; bm25: BM25 score; vector: cosine similarity. */
  score: number | null;
  start_line: number | null;
  end_line: number | null;
  text: string | null;
  path: string | null;
};

/** Builds the statement and its parameters. */
export function buildSearchSql(d: EinsteinDialect, dim: number, input: SearchSqlInput): { sql: string; params: unknown[] } {
  // k and depth are inlined as LIMITs (callers check them; this keeps anything else out of the SQL).
  checkInt('k', input.k, 1, MAX_K);
  checkInt('depth', input.depth, 1, MAX_DEPTH);
  const params: unknown[] = [];
  const ctes: string[] = [];
  const fileOf = d.intDiv('chunk_id', String(CHUNK_ID_STRIDE));
  const filter = (): string => {
    if (!input.fileIds) return '';
    params.push(JSON.stringify(input.fileIds));
    return `WHERE ${d.inJsonIds(fileOf)}`;
  };
  const lists: string[] = [];
  if (input.termIds.length > 0) {
    params.push(JSON.stringify(input.termIds));
    ctes.push(`bm_p AS (SELECT term, chunk_id, tf, len FROM einstein_postings WHERE ${d.inJsonIds('term')})`);
    const dbl = d.type('double', dim);
    ctes.push(`bm_n AS (SELECT CAST(count(*) AS ${dbl}) AS n, CAST(coalesce(avg(len), 1) AS ${dbl}) AS avglen FROM einstein_chunks)`);
    // idf once per query term (not per posting)
    ctes.push(
      'bm_idf AS (SELECT term, ln(1 + (bm_n.n - count(*) + 0.5) / (count(*) + 0.5)) AS idf, bm_n.avglen FROM bm_p CROSS JOIN bm_n GROUP BY term, bm_n.n, bm_n.avglen)',
    );
    const where = filter();
    ctes.push(`bm_s AS (
      SELECT chunk_id, sum(idf * tf * ${BM25_K1 + 1} / (tf + ${BM25_K1} * (${1 - BM25_B} + ${BM25_B} * len / avglen))) AS score
      FROM bm_p JOIN bm_idf USING (term) ${where}
      GROUP BY chunk_id ORDER BY score DESC, chunk_id LIMIT ${input.depth})`);
    ctes.push('bm AS (SELECT chunk_id, score, row_number() OVER (ORDER BY score DESC, chunk_id) AS rnk FROM bm_s)');
    lists.push('bm');
  }
  if (input.vector) {
    params.push(d.vectorParam(input.vector));
    ctes.push(`vs_q AS (${d.queryVector(dim)})`);
    const where = filter();
    ctes.push(
      `vs_s AS (SELECT chunk_id, ${d.similarity('vec', 'vs_q.q')} AS score FROM einstein_vectors CROSS JOIN vs_q ${where} ORDER BY score DESC, chunk_id LIMIT ${input.depth})`,
    );
    ctes.push('vs AS (SELECT chunk_id, score, row_number() OVER (ORDER BY score DESC, chunk_id) AS rnk FROM vs_s)');
    lists.push('vs');
  }
  // Fusion happens here so that only the final k chunks are joined to their text (reading
  // text is the costly part of a lookup). Hybrid = reciprocal-rank fusion:
  // score = Σ over lists of 1 / (RRF_K + rank), a chunk missing from a list contributing 0.
  const rrf = (rank: string) => `coalesce(CAST(1 AS ${d.type('double', dim)}) / (${RRF_K} + ${rank}), 0)`;
  let cand: string;
  if (lists.length === 2) {
    cand = `SELECT coalesce(bm.chunk_id, vs.chunk_id) AS chunk_id, bm.rnk AS bm25_rank, bm.score AS bm25_score, vs.rnk AS vector_rank, vs.score AS vector_score,
                   ${rrf('bm.rnk')} + ${rrf('vs.rnk')} AS score
            FROM bm FULL OUTER JOIN vs ON bm.chunk_id = vs.chunk_id`;
  } else if (lists[0] === 'bm') {
    cand = 'SELECT chunk_id, rnk AS bm25_rank, score AS bm25_score, NULL AS vector_rank, NULL AS vector_score, score FROM bm';
  } else if (lists[0] === 'vs') {
    cand = 'SELECT chunk_id, NULL AS bm25_rank, NULL AS bm25_score, rnk AS vector_rank, score AS vector_score, score FROM vs';
  } else {
    cand = 'SELECT NULL AS chunk_id, NULL AS bm25_rank, NULL AS bm25_score, NULL AS vector_rank, NULL AS vector_score, NULL AS score WHERE false';
  }
  ctes.push(`cand AS (${cand})`);
  // Ties (common in RRF: ranks (1, -) and (-, 1) score the same) go to the BM25 side, then
  // to the vector rank, so the order does not depend on chunk ids (which depend on timing).
  const orderBy = (t: string) => `${t}score DESC, ${t}bm25_rank ASC NULLS LAST, ${t}vector_rank ASC NULLS LAST, ${t}chunk_id`;
  ctes.push(`top AS (SELECT * FROM cand ORDER BY ${orderBy('')} LIMIT ${input.k})`);
  ctes.push(`hit AS (SELECT top.*, c.start_line, c.end_line, c.text, f.path
    FROM top JOIN einstein_chunks c ON c.id = top.chunk_id JOIN einstein_files f ON f.id = c.file_id)`);
  ctes.push('ver AS (SELECT count(*) AS version FROM einstein_changes)');
  const sql = `WITH ${ctes.join(',\n')}\nSELECT ver.version, hit.* FROM ver LEFT JOIN hit ON true ORDER BY ${orderBy('hit.')}`;
  return { sql, params };
}
