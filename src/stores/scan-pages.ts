/**
 * Every memory a store holds, page by page: {@link MemoryStore.scan} followed from the first page to the last,
 * each `nextCursor` passed back unchanged. For `mneme copy`, checks and tests that read a whole store. Admin
 * only, like `scan` itself: unscoped.
 */
import type { MemoryStore } from './types.js';

/** One page of {@link MemoryStore.scan}. */
export type ScanPage = Awaited<ReturnType<MemoryStore['scan']>>;

/** The pages of `store.scan`, `limit` memories each (the last may hold fewer), in scan order (by id). */
export async function* scanPages(store: Pick<MemoryStore, 'scan'>, limit: number): AsyncGenerator<ScanPage> {
  let cursor: string | undefined;
  do {
    const page = await store.scan(cursor === undefined ? { limit } : { limit, cursor });
    yield page;
    cursor = page.nextCursor;
  } while (cursor !== undefined);
}
