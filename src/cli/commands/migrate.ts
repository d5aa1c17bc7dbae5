import { resolveConfig } from '../../memory/config.js';
import { type Command, optionalString, UsageError } from '../command.js';

/**
 * `mneme migrate [--store URL]`: applies pending schema migrations and prints the schema version. For a
 * PostgreSQL store this needs no embedder and no pgvector (deploy scripts can run it before the app servers
 * start; they would also migrate on start, under an advisory lock). Other stores migrate when opened, so the
 * command opens them with the configured embedder.
 */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'apply pending schema migrations to the store and print its schema version',
  usage: 'migrate [--store postgres://user@host:5432/db?schema=mneme]',
  options: {},
  async run(context) {
    const storeFlag = optionalString(context, 'store');
    const config = resolveConfig({ env: context.env, ...(storeFlag ? { store: storeFlag } : {}) });
    const { backendFor, redactUrl } = await import('../../stores/registry.js');
    if (typeof config.store !== 'string') throw new UsageError('give the store to migrate with --store URL');
    const url = redactUrl(config.store);
    if (backendFor(config.store).name === 'postgres') {
      const { createPostgresStore, PGVECTOR_MISSING } = await import('../../stores/postgres.js');
      const store = createPostgresStore({ connectionString: config.store });
      try {
        const result = await store.migrate();
        if (!result.pgvectorAvailable) {
          context.err(`mneme: warning: ${PGVECTOR_MISSING}. The store cannot open until it is installed.`);
        }
        if (context.json) {
          context.out(JSON.stringify({ store: url, ...result }));
        } else {
          context.out(
            result.applied.length === 0
              ? `${store.where}: already at schema version ${result.schemaVersion}`
              : `${store.where}: applied migration${result.applied.length === 1 ? '' : 's'} ` +
                  `${result.applied.join(', ')}; schema version ${result.schemaVersion}`,
          );
        }
      } finally {
        await store.close();
      }
      return 0;
    }
    const memory = await context.openMemory();
    const store = memory.store as typeof memory.store & {
      diagnostics?: () => Promise<{ schemaVersion?: number }>;
    };
    const schemaVersion =
      typeof store.diagnostics === 'function' ? (await store.diagnostics()).schemaVersion : undefined;
    if (context.json) context.out(JSON.stringify({ store: url, schemaVersion: schemaVersion ?? null }));
    else {
      context.out(
        schemaVersion === undefined
          ? `${url}: the ${store.name} store has no schema to migrate`
          : `${url}: migrated on open; schema version ${schemaVersion}`,
      );
    }
    return 0;
  },
};
