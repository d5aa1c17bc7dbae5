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
 * re-reads those seqs from `memory_fts_content` (absent: deleted). A search never waits for the mirror: until it is
 * built, or when it would need a rebuild, the caller uses FTS5.
 *
 * Building. The first {@link KeywordMirror.request} starts a build that reads {@link BUILD_SLICE} rows at a
 * time: for up to {@link REQUEST_BUDGET_MS} inside each request that finds it unfinished, and for
 * {@link TIMER_BUDGET_MS} per timer tick while the process is idle, so no request stalls behind it (about 1 s of
 * work per 100k rows in all) and a process that searches back to back without idling still finishes it. It
 * reads the highest generation first and applies the later changes when done: rows written meanwhile are
 * re-read.
 * The mirror is dropped, and built again on request, when the table outgrows {@link MIRROR_MAX_ROWS} or a
 * sync finds more changes than a rebuild costs, or half its slots are dead.
 */
import { KeywordPostings, type PostingHit } from '../keyword-postings.js';
import type { Prepare } from './writes.js';

/** `memory_fts` rows read per slice of a build (about 1 ms of work). */
const BUILD_SLICE = 100;
/** Build work a request does while it waits for the mirror, and a timer tick when the process is idle, in ms. */
const REQUEST_BUDGET_MS = 3;
const TIMER_BUDGET_MS = 5;
/** Above this many rows the mirror is not built (about 100 bytes of memory per row). */
export const MIRROR_MAX_ROWS = 500_000;
/** A sync reading more changed rows than this rebuilds instead. */
const SYNC_MAX_CHANGES = 20_000;
/** Dead slots past this share of the postings trigger a rebuild. */
const MAX_DEAD_SHARE = 0.5;

/** A build in progress: what it has read so far, and from which generation on it must re-read changes. */
interface Build {
  kind: 'building';
  postings: KeywordPostings;
  generation: number;
  /** The last seq read. */
  after: number;
  cancelled: boolean;
}

type State = { kind: 'none' } | Build | { kind: 'ready'; postings: KeywordPostings; generation: number };

export class KeywordMirror {
  private state: State = { kind: 'none' };

  /** `maxRows`: the largest table mirrored (0 turns the mirror off). */
  constructor(private readonly maxRows = MIRROR_MAX_ROWS) {}

  /** `ready` once built (current as of the last request), `building` while a build runs, else `none`. */
  get status(): State['kind'] {
    return this.state.kind;
  }

  /**
   * True when a current copy can answer now. Otherwise it starts a build (when none runs), or carries the
   * running one on for up to {@link REQUEST_BUDGET_MS}, and returns false unless that finished it.
   */
  request(prepare: Prepare, tableRows: number): boolean {
    if (this.maxRows <= 0 || tableRows > this.maxRows) {
      this.drop();
      return false;
    }
    if (this.state.kind === 'none') this.start(prepare);
    if (this.state.kind === 'building') this.advance(prepare, this.state, REQUEST_BUDGET_MS);
    return this.state.kind === 'ready' && this.sync(prepare);
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

  private start(prepare: Prepare): void {
    const build: Build = {
      kind: 'building',
      postings: new KeywordPostings(),
      generation: highestGeneration(prepare),
      after: 0,
      cancelled: false,
    };
    this.state = build;
    const tick = () => {
      if (build.cancelled || this.state !== build) return;
      this.advance(prepare, build, TIMER_BUDGET_MS);
      if (this.state === build) setTimeout(tick, 0).unref();
    };
    // Unreferenced timers, not immediates: a short-lived process (a hook, a CLI search) exits without waiting for
    // a build it will not use, and an idle one still runs them (an unreferenced immediate waits for other I/O).
    setTimeout(tick, 0).unref();
  }

  /** Reads slices of `build` for about `budgetMs`; the mirror is ready when the last slice is read. */
  private advance(prepare: Prepare, build: Build, budgetMs: number): void {
    const deadline = performance.now() + budgetMs;
    try {
      const slice = prepare(
        'SELECT id AS seq, c0 AS memory, c1 AS scope FROM memory_fts_content WHERE id > ? ORDER BY id LIMIT ?',
      );
      do {
        const rows = slice.all(build.after, BUILD_SLICE) as FtsRow[];
        for (const row of rows) apply(build.postings, row);
        const last = rows.at(-1);
        if (last === undefined || rows.length < BUILD_SLICE) {
          this.state = { kind: 'ready', postings: build.postings, generation: build.generation };
          return;
        }
        build.after = last.seq;
      } while (performance.now() < deadline);
    } catch {
      // The connection closed, or a read failed: searches keep using FTS5; a later request builds again.
      if (this.state === build) this.state = { kind: 'none' };
    }
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
