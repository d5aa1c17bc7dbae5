/**
 * The SQLite store's approximate dense search: binary codes, a two-stage candidate search, an exact re-rank.
 *
 * Layout (maintained by triggers in `schema.ts`): each row of `vector_blocks` belongs to one user and holds up
 * to 256 slots: `seqs`, 8 bytes per slot (the memory's `seq`, big-endian; 0 = a freed slot), and `codes`,
 * dimension / 8 bytes per slot (bit i of byte i / 8 set when dimension i of the vector is > 0, sqlite-vec's
 * `vec_quantize_binary` layout).
 *
 * A search lists the user's blocks with their versions and live counts (which also decide between this index and
 * the exact scan) and reads only those its {@link CodeBlockCache} does
 * not hold at that version (a user's blocks are 7.2 MB per 100k memories of 512 dimensions; re-reading them
 * every time cost 3-30 ms), then:
 * 1. Hamming stage: ranks every live slot by Hamming distance between its code and the query's sign bits
 *    (counted by `hamming-kernel.ts`), and keeps the nearest `4 x pool` (a histogram of distances finds the
 *    cut-off in one pass, no sort).
 * 2. Asymmetric stage: scores those by the query's own float components summed over each code's set bits
 *    (proportional to the dot product of the query with the code's +1/-1 vector, up to a constant), through a
 *    per-query table of 256 partial sums per code byte, and keeps the best `pool`.
 * The caller re-ranks the `pool` seqs by exact cosine over their float32 vectors, under the full scope,
 * temporal rule and filter.
 *
 * Everything lives in the database file, written in the same transaction as the vector it describes; the
 * cache only saves reads (a block's version changes with every write to it), so another process's committed
 * write is seen by the next search.
 */
import type { HammingKernel } from './hamming-kernel.js';
import type { Prepare } from './writes.js';

/** Codes scored by the asymmetric stage per candidate kept. */
const HAMMING_OVERSAMPLING = 4;

/**
 * How many candidates to re-rank exactly for a search returning `limit`: at least 200 and twice `limit`, and
 * 0.4% of the user's codes up to 2,000 (never more than `live`). Measured on clustered 512-d vectors, 100k in
 * one scope: 200 candidates give recall@10 0.90 against the exact scan, 400 give 0.98.
 */
export function candidatePoolSize(live: number, limit: number): number {
  return Math.min(live, Math.max(200, limit * 2, Math.min(2000, Math.ceil(live / 250))));
}

/** A user's blocks in order with their versions, and how many live slots (vectors with a code) they hold. */
export interface BlockListing {
  blocks: Array<{ block: number; version: number }>;
  live: number;
}

/** Lists `userId`'s blocks: one small read that decides the plan and tells the cache what is current. */
export function listBlocks(prepare: Prepare, userId: string): BlockListing {
  const rows = prepare('SELECT block, version, live FROM vector_blocks WHERE user_id = ? ORDER BY block').all(
    userId,
  ) as Array<{ block: number; version: number; live: number }>;
  let live = 0;
  for (const row of rows) live += row.live;
  return { blocks: rows.map(({ block, version }) => ({ block, version })), live };
}

/** The query's code as 32-bit words: bit i set when `query[i] > 0` (dimension a multiple of 32). */
export function signWords(query: Float32Array): Uint32Array {
  const code = new Uint32Array(query.length / 32);
  for (let index = 0; index < query.length; index += 1) {
    if ((query[index] ?? 0) > 0) code[index >>> 5] = ((code[index >>> 5] ?? 0) | (1 << (index & 31))) >>> 0;
  }
  return code;
}

/** A BLOB's bytes as 32-bit little-endian words (copied when the Buffer is not 4-byte aligned). */
function words(blob: Buffer): Uint32Array {
  if (blob.byteOffset % 4 === 0) return new Uint32Array(blob.buffer, blob.byteOffset, blob.byteLength >>> 2);
  const copy = new Uint32Array(blob.byteLength >>> 2);
  new Uint8Array(copy.buffer).set(blob.subarray(0, copy.byteLength));
  return copy;
}

/** For each code byte position, the sum of the query components of every subset of its 8 bits. */
function partialSums(query: Float32Array): Float64Array {
  const bytes = query.length / 8;
  const table = new Float64Array(bytes * 256);
  for (let position = 0; position < bytes; position += 1) {
    const base = position * 256;
    for (let value = 1; value < 256; value += 1) {
      const lowest = 31 - Math.clz32(value & -value);
      table[base + value] = (table[base + (value & (value - 1))] ?? 0) + (query[position * 8 + lowest] ?? 0);
    }
  }
  return table;
}

/** The indexes among the first `used` slots of `seqs` whose seq is 0 (freed), found once when a block is read. */
function freedSlots(seqs: Buffer, used: number): number[] {
  const freed: number[] = [];
  for (let index = 0; index < used; index += 1) {
    if (seqs.readUInt32BE(index * 8) === 0 && seqs.readUInt32BE(index * 8 + 4) === 0) freed.push(index);
  }
  return freed;
}

/**
 * One block as a search uses it: codes as aligned words, seqs as stored, the freed slots among the used ones.
 * Never changed once built (a write to the block gives it a new version, read into a new object), which the
 * Hamming kernel relies on when it keeps the codes it was given.
 */
interface Block {
  version: number;
  used: number;
  seqs: Buffer;
  codes: Uint32Array;
  freed: readonly number[];
}

/**
 * Blocks read earlier, by block id, at the version read; least recently used evicted beyond `maxBytes`. One per
 * store connection. Never a source of truth: a search uses a cached block only when the database still lists
 * that block at that version.
 */
export class CodeBlockCache {
  private readonly blocks = new Map<number, Block>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The cached block `id` if it is at `version` (and marks it recently used), else undefined. */
  get(id: number, version: number): Block | undefined {
    const block = this.blocks.get(id);
    if (block === undefined || block.version !== version) return undefined;
    this.blocks.delete(id);
    this.blocks.set(id, block);
    return block;
  }

  set(id: number, block: Block): void {
    this.delete(id);
    this.blocks.set(id, block);
    this.bytes += block.codes.byteLength + block.seqs.byteLength;
    for (const [oldest, entry] of this.blocks) {
      if (this.bytes <= this.maxBytes) break;
      this.blocks.delete(oldest);
      this.bytes -= entry.codes.byteLength + entry.seqs.byteLength;
    }
  }

  delete(id: number): void {
    const block = this.blocks.get(id);
    if (block === undefined) return;
    this.blocks.delete(id);
    this.bytes -= block.codes.byteLength + block.seqs.byteLength;
  }

  clear(): void {
    this.blocks.clear();
    this.bytes = 0;
  }
}

/** The listed blocks in order, from `cache` where current, the rest read (and cached). */
function readBlocks(prepare: Prepare, cache: CodeBlockCache, listing: BlockListing): Block[] {
  const blocks = new Map<number, Block>();
  const missing: number[] = [];
  for (const { block, version } of listing.blocks) {
    const cached = cache.get(block, version);
    if (cached === undefined) missing.push(block);
    else blocks.set(block, cached);
  }
  if (missing.length > 0) {
    const rows = prepare(
      'SELECT block, version, used, seqs, codes FROM vector_blocks WHERE block IN (SELECT value FROM json_each(?))',
    ).all(JSON.stringify(missing)) as Array<{
      block: number;
      version: number;
      used: number;
      seqs: Buffer;
      codes: Buffer;
    }>;
    for (const row of rows) {
      const block = {
        version: row.version,
        used: row.used,
        seqs: row.seqs,
        codes: words(row.codes),
        freed: freedSlots(row.seqs, row.used),
      };
      cache.set(row.block, block);
      blocks.set(row.block, block);
    }
  }
  // A block written between the two reads comes back at its newer version; one dropped in between is absent.
  return listing.blocks.flatMap(({ block }) => {
    const found = blocks.get(block);
    return found === undefined ? [] : [found];
  });
}

/**
 * The seqs of about `pool` live slots of the listed blocks nearest to `query` (see the module comment; a few
 * more when several slots tie at the Hamming cut-off).
 */
export function nearestCodes(
  prepare: Prepare,
  cache: CodeBlockCache,
  listing: BlockListing,
  query: Float32Array,
  pool: number,
  kernel: HammingKernel,
): number[] {
  const blocks = readBlocks(prepare, cache, listing);
  const queryWords = signWords(query);
  const width = queryWords.length;
  const freed = width * 32 + 1;
  let slots = 0;
  for (const block of blocks) slots += block.used;

  // Stage 1: Hamming distance per slot (a freed slot gets a distance beyond any code's), with a histogram to
  // find the cut-off distance.
  const distances = new Uint16Array(slots);
  kernel.distances(blocks, queryWords, distances);
  let base = 0;
  for (const block of blocks) {
    for (const index of block.freed) distances[base + index] = freed;
    base += block.used;
  }
  const histogram = new Uint32Array(freed + 1);
  for (let slot = 0; slot < slots; slot += 1) {
    const distance = distances[slot] as number;
    histogram[distance] = (histogram[distance] as number) + 1;
  }
  const wanted = pool * HAMMING_OVERSAMPLING;
  // The smallest distance within which `wanted` live slots lie (all live slots when there are fewer).
  let cutOff = 0;
  for (let seen = 0; cutOff < freed - 1; cutOff += 1) {
    seen += histogram[cutOff] as number;
    if (seen >= wanted) break;
  }

  // Stage 2: asymmetric scores of the slots within the cut-off.
  const kept = asymmetricScores(blocks, distances, cutOff, partialSums(query));
  return bestSeqs(kept.seqs, kept.scores, pool);
}

/** The seqs and asymmetric scores of the slots whose Hamming distance is at most `cutOff`, in slot order. */
function asymmetricScores(
  blocks: readonly Block[],
  distances: Uint16Array,
  cutOff: number,
  sums: Float64Array,
): { seqs: number[]; scores: number[] } {
  const bytes = sums.length >>> 8;
  const seqs: number[] = [];
  const scores: number[] = [];
  let slot = 0;
  for (const block of blocks) {
    const codeBytes = new Uint8Array(block.codes.buffer, block.codes.byteOffset, block.codes.byteLength);
    const used = block.used;
    for (let index = 0; index < used; index += 1, slot += 1) {
      if ((distances[slot] as number) > cutOff) continue;
      let score = 0;
      const offset = index * bytes;
      for (let position = 0; position < bytes; position += 1) {
        score += sums[(position << 8) | (codeBytes[offset + position] as number)] as number;
      }
      seqs.push(block.seqs.readUInt32BE(index * 8) * 2 ** 32 + block.seqs.readUInt32BE(index * 8 + 4));
      scores.push(score);
    }
  }
  return { seqs, scores };
}

/**
 * The `pool` seqs with the highest scores (all when there are no more), in slot order; of several tied at the
 * lowest score kept, the first ones. The caller re-ranks them exactly, so their order carries no meaning.
 */
function bestSeqs(seqs: number[], scores: number[], pool: number): number[] {
  if (seqs.length <= pool) return seqs;
  const sorted = Float64Array.from(scores).sort();
  const lowest = sorted[sorted.length - pool] as number;
  let above = 0;
  for (const score of scores) if (score > lowest) above += 1;
  let ties = pool - above;
  const best: number[] = [];
  for (let index = 0; index < seqs.length; index += 1) {
    const score = scores[index] as number;
    if (score > lowest || (score === lowest && ties-- > 0)) best.push(seqs[index] as number);
  }
  return best;
}
