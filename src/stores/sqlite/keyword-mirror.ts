/**
 * A copy of the SQLite file's keyword index (`memory_fts`) in this process's memory, as {@link KeywordPostings},
 * for the keyword search of a scope that holds most of the file (`keyword.ts`): FTS5's `bm25()` costs about
 * 1 us per matching row there, the copy scores the same matches, to the same BM25, in a fraction of that.
 *
 * It mirrors `memory_fts` itself, every row of every scope (FTS5's statistics are over the whole table, so the
 * scores equal `bm25()`'s): the `memory` column is searched, the `scope` column counts in the length only. Rows
 * are read from FTS5's own content table, `memory_fts_content` (`id` = rowid, `c0` = memory, `c1` = scope; the
 * layout FTS5 documents for its shadow tables): a scan of the virtual table by rowid ranges took 15x longer.
 *
 * Staying current. `memory_fts` takes no triggers, so every write to it also records the row's seq in
 * `keyword_changes` (`noteKeywordChanges` in `writes.ts`, same transaction) under a generation one above the table's
 * highest. Writers are serialised, so generations grow in commit order: before each search the mirror reads
 * the rows above the last generation it applied (its own process's writes and other processes' alike) and
 * re-reads those seqs from `memory_fts` (absent: deleted). A search never waits for the mirror: until it is
 * built, or when it would need a rebuild, the caller uses FTS5.
 *
 * Building. The first {@link KeywordMirror.request} starts a build in slices of {@link BUILD_SLICE} rows, one
 * per timer tick (about 5 ms each), so a process's other work goes on. It reads the highest
 * generation first and applies the later changes when done: rows written during the build are re-read.
 * The mirror is dropped, and built again on request, when the table outgrows {@link MIRROR_MAX_ROWS} or a
 * sync finds more changes than a rebuild costs, or half its slots are dead.
 */
import { KeywordPostings, type PostingHit } from '../keyword-postings.js';
import type { Prepare } from './writes.js';

/** `memory_fts` rows read per slice of a build. */
const BUILD_SLICE = 500;
/** Above this many rows the mirror is not built (about 100 bytes of memory per row). */
export const MIRROR_MAX_ROWS = 500_000;
/** A sync reading more changed rows than this rebuilds instead. */
const SYNC_MAX_CHANGES = 20_000;
/** Dead slots past this share of the postings trigger a rebuild. */
const MAX_DEAD_SHARE = 0.5;

type State =
  | { kind: 'none' }
  | { kind: 'building'; cancelled: boolean }
  | { kind: 'ready'; postings: KeywordPostings; generation: number };

export class KeywordMirror {
  private state: State = { kind: 'none' };

  /** `maxRows`: the largest table mirrored (0 turns the mirror off). */
  constructor(private readonly maxRows = MIRROR_MAX_ROWS) {}

  /** `ready` once built (current as of the last request), `building` while a build runs, else `none`. */
  get status(): State['kind'] {
    return this.state.kind;
  }

  /** True when a current copy can answer now; otherwise starts a build (when none runs) and returns false. */
  request(prepare: Prepare, tableRows: number): boolean {
    if (this.maxRows <= 0 || tableRows > this.maxRows) {
      this.drop();
      return false;
    }
    if (this.state.kind === 'ready' && this.sync(prepare)) return true;
    if (this.state.kind === 'none') this.build(prepare);
    return false;
  }

  /**
   * The best `count` rows for `terms` (see {@link KeywordPostings.top}), with SQLite's `ln()` for the idf so the
   * scores equal `bm25()`'s to the bit; call after `request` returned true.
   */
  top(prepare: Prepare, terms: readonly string[], count: number): PostingHit[] | undefined {
    if (this.state.kind !== 'ready') return undefined;
    const ln = prepare('SELECT ln(?) AS value');
    return this.state.postings.top(terms, count, (value) => (ln.get(value) as { value: number }).value);
  }

  /** Stops a build and frees the copy (the store closes, or the mirror is no longer wanted). */
  drop(): void {
    if (this.state.kind === 'building') this.state.cancelled = true;
    this.state = { kind: 'none' };
  }

  /** Applies the changes since the last sync; false (and dropped) when a rebuild is due instead. */
  private sync(prepare: Prepare): boolean {
    if (this.state.kind !== 'ready') return false;
    const { postings, generation } = this.state;
    const newest = highestGeneration(prepare);
    if (newest > generation) {
      const changes = prepare(
        `SELECT k.seq, k.generation, f.c0 AS memory, f.c1 AS scope FROM keyword_changes k
         LEFT JOIN memory_fts_content f ON f.id = k.seq WHERE k.generation > ? ORDER BY k.generation LIMIT ?`,
      ).all(generation, SYNC_MAX_CHANGES + 1) as Array<FtsRow & { generation: number }>;
      if (changes.length > SYNC_MAX_CHANGES) {
        this.drop();
        return false;
      }
      let applied = generation;
      for (const change of changes) {
        apply(postings, change);
        applied = Math.max(applied, change.generation);
      }
      this.state = { kind: 'ready', postings, generation: applied };
    }
    if (postings.deadShare > MAX_DEAD_SHARE) {
      this.drop();
      return false;
    }
    return true;
  }

  private build(prepare: Prepare): void {
    const state: State = { kind: 'building', cancelled: false };
    this.state = state;
    const postings = new KeywordPostings();
    const generation = highestGeneration(prepare);
    const slice = prepare(
      'SELECT id AS seq, c0 AS memory, c1 AS scope FROM memory_fts_content WHERE id > ? ORDER BY id LIMIT ?',
    );
    let after = 0;
    const step = () => {
      if (state.cancelled) return;
      try {
        const rows = slice.all(after, BUILD_SLICE) as FtsRow[];
        for (const row of rows) apply(postings, row);
        const last = rows.at(-1);
        if (last !== undefined && rows.length === BUILD_SLICE) {
          after = last.seq;
          setTimeout(step, 0).unref();
          return;
        }
        this.state = { kind: 'ready', postings, generation };
      } catch {
        // The connection closed, or a read failed: searches keep using FTS5; a later request builds again.
        if (this.state === state) this.state = { kind: 'none' };
      }
    };
    // Unreferenced timers, not immediates: a short-lived process (a hook, a CLI search) exits without waiting for
    // a build it will not use, and an idle one still runs them (an unreferenced immediate waits for other I/O).
    setTimeout(step, 0).unref();
  }
}

interface FtsRow {
  seq: number;
  memory: string | null;
  scope: string | null;
}

function apply(postings: KeywordPostings, row: FtsRow): void {
  if (row.memory === null) postings.delete(row.seq);
  else postings.set(row.seq, row.memory, row.scope ?? '');
}

function highestGeneration(prepare: Prepare): number {
  const row = prepare('SELECT MAX(generation) AS generation FROM keyword_changes').get() as
    | { generation: number | null }
    | undefined;
  return row?.generation ?? 0;
}
