/**
 * The paging loop of `exportScope`, for engines that read a snapshot page by page: the first page is read with no
 * key, each next one after the last record of the previous page (newest first, so after its `createdAt` and id),
 * until a page says no more follow. `readPage` runs on the engine's snapshot (a read transaction, a dedicated
 * connection); `checkOpen` runs before each item is handed out and throws when the snapshot was ended meanwhile.
 */
import type { HistoryEvent, MemoryRecord } from '../../core/types.js';
import type { PageKey } from './visibility.js';

/** One page of an export: items in order, and whether more follow. */
export interface ExportPage {
  items: Array<{ record: MemoryRecord; history: HistoryEvent[] }>;
  more: boolean;
}

/** Every item of every page, read lazily (see the module comment). */
export async function* exportPages(
  readPage: (after: PageKey | undefined) => Promise<ExportPage>,
  checkOpen: () => void = () => undefined,
): AsyncGenerator<{ record: MemoryRecord; history: HistoryEvent[] }> {
  let after: PageKey | undefined;
  for (;;) {
    const page = await readPage(after);
    for (const item of page.items) {
      checkOpen();
      yield item;
    }
    const last = page.items.at(-1)?.record;
    if (!page.more || !last) return;
    after = { createdAt: last.createdAt, id: last.id };
  }
}
