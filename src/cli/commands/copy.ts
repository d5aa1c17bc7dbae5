import { existsSync } from 'node:fs';
import { ConfigError, EmbedderMismatchError } from '../../core/errors.js';
import { resolveConfig } from '../../memory/config.js';
import { scanPages } from '../../stores/scan-pages.js';
import type { EmbedderIdentity, MemoryStore } from '../../stores/types.js';
import { type Command, type CommandContext, optionalInteger, requireString, UsageError } from '../command.js';
import { createProgress } from '../progress.js';

const DEFAULT_BATCH = 200;

/**
 * `mneme copy --from URL --to URL`: copies every memory with its vector and full history (ids and times kept)
 * from one store to another, e.g. from the embedded SQLite file to PostgreSQL. Vectors are copied verbatim, so
 * the target must be new or written by the same embedder (id and dimension) as the source; otherwise the copy
 * is refused. Idempotent: memories already in the target are skipped, so an interrupted copy can be rerun.
 * Pending ingestion-queue items are not copied (drain them first). Progress is drawn on a TTY.
 */
export const copyCommand: Command = {
  name: 'copy',
  summary: 'copy every memory with its vector and history to another store (e.g. SQLite -> PostgreSQL)',
  usage: 'copy --from sqlite://./mneme.db --to postgres://user@host:5432/db?schema=mneme [--batch N]',
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    batch: { type: 'string' },
  },
  async run(context) {
    const from = requireString(context, 'from', 'the store to copy from, e.g. --from sqlite://./mneme.db');
    const to = requireString(context, 'to', 'the store to copy to, e.g. --to postgres://user@host/db');
    const batch = optionalInteger(context, 'batch') ?? DEFAULT_BATCH;
    const { backendFor, createStore, redactUrl, sqlitePathFromUrl } = await import(
      '../../stores/registry.js'
    );
    if (from.trim() === to.trim()) throw new UsageError('--from and --to name the same store');
    if (backendFor(from).name === 'sqlite') {
      const path = sqlitePathFromUrl(from);
      if (path !== ':memory:' && !existsSync(path)) {
        throw new UsageError(`--from ${from}: no such SQLite file (${path})`);
      }
    }
    const source = await createStore(from);
    const target = await createStore(to);
    try {
      const identity = await openSource(source, await configuredEmbedder(context));
      try {
        await target.open({ embedder: identity });
      } catch (error) {
        if (!(error instanceof EmbedderMismatchError)) throw error;
        throw new ConfigError(
          `cannot copy ${redactUrl(from)} to ${redactUrl(to)}: the source was written by "${identity.id}" ` +
            `(${identity.dimension} dimensions) but the target by "${error.stored.id}" (${error.stored.dimension} ` +
            'dimensions), so vectors cannot be copied verbatim. Copy into a new target (another file, or another ' +
            'schema with ?schema=), or re-embed with `mneme export` + `mneme import` into a store of the target embedder.',
          { code: 'embedder_mismatch', cause: error },
        );
      }
      const total = (await source.stats()).memories;
      const queued = await source.queueSize();
      if (queued > 0) {
        context.err(
          `mneme: warning: ${queued} ingestion queue item(s) in the source are not copied; let them finish ` +
            '(run any mneme command with the source store) and copy again to include their memories.',
        );
      }
      let copied = 0;
      let seen = 0;
      let historyEvents = 0;
      const progress = context.json ? undefined : createProgress(context, { label: 'copy' });
      for await (const page of scanPages(source, batch)) {
        copied += await target.restore({ items: page.items });
        seen += page.items.length;
        historyEvents += page.items.reduce((sum, item) => sum + item.history.length, 0);
        progress?.update(seen, total);
      }
      progress?.finish();
      const summary = {
        from: redactUrl(from),
        to: redactUrl(to),
        copied,
        skipped: seen - copied,
        historyEvents,
      };
      context.out(
        context.json
          ? JSON.stringify(summary)
          : `copied ${copied} memories (${historyEvents} history events scanned), skipped ${seen - copied} ` +
              `already in ${summary.to}`,
      );
      return 0;
    } finally {
      await source.close();
      await target.close();
    }
  },
};

/** The configured embedder's identity (option `embedder` / env MNEME_EMBEDDER); no model is loaded. */
async function configuredEmbedder(context: CommandContext): Promise<EmbedderIdentity> {
  const config = resolveConfig({ env: context.env });
  const { createEmbedder } = await import('../../embedders/registry.js');
  const embedder = await createEmbedder(config.embedder, config.embedderOptions);
  const identity = { id: embedder.id, dimension: embedder.dimension };
  await embedder.close();
  return identity;
}

/**
 * Opens the source with the configured embedder; a source written by another embedder is opened with that
 * one instead (a refused open changes nothing, and its error names the stored identity). @returns the identity.
 */
async function openSource(source: MemoryStore, configured: EmbedderIdentity): Promise<EmbedderIdentity> {
  try {
    await source.open({ embedder: configured });
    return configured;
  } catch (error) {
    if (!(error instanceof EmbedderMismatchError)) throw error;
    await source.open({ embedder: error.stored });
    return error.stored;
  }
}
