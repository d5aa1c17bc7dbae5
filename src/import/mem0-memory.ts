/**
 * What mneme reads from Mem0, whatever the source (an OSS store's SQLite files, mem0-oss.ts; a platform JSON
 * export, mem0-export.ts): one neutral shape, {@link Mem0Memory}, turned into mneme's import format
 * ({@link ExportedMemory}, what `Memory.importMemories` writes) here, once, with every value validated.
 *
 * The mapping:
 * - The Mem0 id becomes the mneme id (so Mem0 code that kept ids finds the same memories through `mneme serve`)
 *   and is kept in `metadata['mneme:importedFrom'] = { system: 'mem0', id, format, categories?, ... }`.
 * - `user_id` / `agent_id` / `run_id` / `app_id` become the scope; a memory with none of them is a bad row.
 * - `created_at` becomes `createdAt` and `observedAt`; `updated_at` (default `created_at`) becomes `updatedAt`;
 *   Mem0's `expiration_date` (a day, `YYYY-MM-DD`, still visible on that day) becomes `expiresAt` at the start
 *   of the next day (UTC).
 * - Mem0 history rows become mneme history events with Mem0's dates: ADD (at `created_at`) and UPDATE (at
 *   `updated_at`, with the text before and after); actor `mem0-import`. A memory without an ADD row gets one
 *   at its `created_at`, holding its first known text.
 * - The memory's kind is `message`: Mem0 does not say whether a memory is a preference or an instruction
 *   (reclassify with `memory.update(id, { kind })`).
 */

import { randomUUID } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import { hashText } from '../core/text.js';
import type { HistoryEvent, JsonValue, Scope } from '../core/types.js';
import {
  validateIdentifier,
  validateMetadata,
  validateOptionalDate,
  validateText,
} from '../core/validate.js';
import type { ExportedMemory } from '../memory/memory.js';

/** The metadata key holding where an imported memory came from. */
export const IMPORTED_FROM_KEY = 'mneme:importedFrom';
/** The history actor of imported events. */
export const IMPORT_ACTOR = 'mem0-import';

/** Which Mem0 source a memory was read from. */
export type Mem0Format = 'oss' | 'platform-export';

/** One Mem0 history row (OSS `memory_history`), values as read. */
export interface Mem0HistoryRow {
  /** Where it was read, for reports (`memory.db: memory_history id 7`). */
  at: string;
  action: unknown;
  previousValue: unknown;
  newValue: unknown;
  createdAt: unknown;
  updatedAt: unknown;
}

/** One Mem0 memory as read, before validation (values are whatever the source held). */
export interface Mem0Memory {
  /** Where it was read, for reports (`export.json:12`, `vector_store.db: vectors id 3c90...`). */
  at: string;
  format: Mem0Format;
  id: unknown;
  text: unknown;
  userId: unknown;
  agentId: unknown;
  runId: unknown;
  appId: unknown;
  metadata: unknown;
  categories: unknown;
  createdAt: unknown;
  updatedAt: unknown;
  /** Mem0's `expiration_date`. */
  expirationDate: unknown;
  /** Further Mem0 fields kept under `mneme:importedFrom` (e.g. `attributedTo`, `immutable`). */
  extra: Record<string, unknown>;
  /** Its history rows, oldest first (OSS only). */
  history: Mem0HistoryRow[];
}

/** A row that was not imported, and why. */
export interface BadRow {
  /** Where: `file:line`, `file: vectors id X`, `URL item 3`, with the Mem0 id when known. */
  at: string;
  /** Why, naming the Mem0 field and what would fix it. */
  reason: string;
}

/** What a Mem0 source holds, read and not yet validated. */
export interface Mem0Read {
  /** In source order: each row read as a memory, or a row that could not even be read as one. */
  rows: Array<{ memory: Mem0Memory } | { bad: BadRow }>;
  /** Ids of memories deleted in Mem0 (only their history is left, without a scope): not importable. */
  deleted: string[];
}

/** Options of {@link toExportedMemory}. */
export interface ConversionOptions {
  /** The app id given to memories that have none (`mneme import --app`); it never scopes an unscoped row. */
  appId?: string;
}

const SCOPE_FIELDS: ReadonlyArray<[keyof Mem0Memory & keyof Scope, string]> = [
  ['userId', 'user_id'],
  ['agentId', 'agent_id'],
  ['runId', 'run_id'],
  ['appId', 'app_id'],
];

/**
 * Validates one Mem0 memory and turns it into mneme's import format.
 * @returns the memory, and the history rows that could not be imported (the memory is still imported).
 * @throws ValidationError naming the Mem0 field when the memory itself cannot be imported.
 */
export function toExportedMemory(
  source: Mem0Memory,
  options: ConversionOptions = {},
): { item: ExportedMemory; badHistory: BadRow[] } {
  const field = (name: string): string => fieldName(source.format, name);
  const id = validateIdentifier(source.id, 'id');
  const text = validateText(source.text, field('memory')).trim();
  if (text.length === 0) throw new ValidationError(field('memory'), 'is empty; a memory needs its text');
  const scope = scopeOf(source, options);
  const createdAt = validateOptionalDate(source.createdAt, field('created_at'));
  if (createdAt === undefined) {
    throw new ValidationError(
      field('created_at'),
      'is missing; every Mem0 memory records when it was created',
    );
  }
  const updatedAt = validateOptionalDate(source.updatedAt, field('updated_at')) ?? createdAt;
  const expiresAt = expiryOf(source.expirationDate, field('expiration_date'));
  const importedFrom = importedFromOf(id, source);
  const metadata = validateMetadata(
    { ...validateMetadata(source.metadata, field('metadata')), [IMPORTED_FROM_KEY]: importedFrom },
    field('metadata'),
  );
  const { events, badHistory } = historyOf(source, { id, text, createdAt, updatedAt });
  return {
    item: {
      type: 'memory',
      record: {
        id,
        memory: text,
        ...scope,
        kind: 'message',
        metadata,
        hash: hashText(text),
        createdAt,
        updatedAt,
        observedAt: createdAt,
        ...(expiresAt ? { expiresAt } : {}),
      },
      history: events,
    },
    badHistory,
  };
}

/** The name of a platform-export field where `format` keeps it (an OSS store keeps most in the row's payload). */
function fieldName(format: Mem0Format, name: string): string {
  if (format === 'platform-export' || name === 'id' || name === 'app_id') return name;
  return OSS_FIELDS[name] ?? `payload.${name}`;
}

const OSS_FIELDS: Record<string, string> = {
  memory: 'payload.data',
  created_at: 'payload.createdAt',
  updated_at: 'payload.updatedAt',
  metadata: 'payload',
};

function scopeOf(source: Mem0Memory, options: ConversionOptions): Scope {
  const scope: Scope = {};
  for (const [key, mem0Field] of SCOPE_FIELDS) {
    const value = source[key];
    if (value === undefined || value === null || value === '') continue;
    scope[key] = validateIdentifier(value, fieldName(source.format, mem0Field));
  }
  // Checked before the default app applies: a row Mem0 itself could not have scoped stays a bad row.
  if (Object.keys(scope).length === 0) {
    throw new ValidationError(
      fieldName(source.format, 'user_id'),
      'is missing, and so are agent_id, run_id and app_id: mneme needs one of them to scope the memory',
    );
  }
  if (scope.appId === undefined && options.appId !== undefined) scope.appId = options.appId;
  return scope;
}

// Mem0 hides a memory after its expiration day (`expiration_date < today`), so it expires when the next day starts.
function expiryOf(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const day = new Date(`${value}T00:00:00Z`);
    if (Number.isNaN(day.getTime())) throw new ValidationError(field, 'expected YYYY-MM-DD');
    return new Date(day.getTime() + 86_400_000).toISOString();
  }
  return validateOptionalDate(value, field);
}

function importedFromOf(id: string, source: Mem0Memory): { [key: string]: JsonValue } {
  const importedFrom: { [key: string]: JsonValue } = { system: 'mem0', id, format: source.format };
  if (source.categories !== undefined && source.categories !== null) {
    if (
      !Array.isArray(source.categories) ||
      source.categories.some((category) => typeof category !== 'string')
    ) {
      throw new ValidationError('categories', 'expected an array of strings');
    }
    if (source.categories.length > 0) importedFrom.categories = source.categories as string[];
  }
  if (source.expirationDate !== undefined && source.expirationDate !== null && source.expirationDate !== '') {
    importedFrom.expirationDate = String(source.expirationDate);
  }
  const extra = validateMetadata(
    Object.fromEntries(Object.entries(source.extra).filter(([, value]) => value !== undefined)),
    'metadata',
  );
  return { ...extra, ...importedFrom };
}

/** The memory's history as mneme events, oldest first, beginning with its ADD. */
function historyOf(
  source: Mem0Memory,
  memory: { id: string; text: string; createdAt: string; updatedAt: string },
): { events: HistoryEvent[]; badHistory: BadRow[] } {
  const events: HistoryEvent[] = [];
  const badHistory: BadRow[] = [];
  const event = (fields: Omit<HistoryEvent, 'id' | 'memoryId' | 'actor'>): HistoryEvent => ({
    id: randomUUID(),
    memoryId: memory.id,
    actor: IMPORT_ACTOR,
    reason: 'imported from Mem0',
    ...fields,
  });
  for (const row of source.history) {
    try {
      if (row.action === 'ADD') {
        const newValue = optionalText(row.newValue, 'new_value') ?? memory.text;
        const createdAt = validateOptionalDate(row.createdAt, 'created_at') ?? memory.createdAt;
        events.push(event({ event: 'ADD', newValue, createdAt }));
      } else if (row.action === 'UPDATE') {
        const previousValue = optionalText(row.previousValue, 'previous_value');
        const newValue = optionalText(row.newValue, 'new_value');
        const createdAt =
          validateOptionalDate(row.updatedAt, 'updated_at') ??
          validateOptionalDate(row.createdAt, 'created_at') ??
          memory.updatedAt;
        events.push(
          event({
            event: 'UPDATE',
            createdAt,
            ...(previousValue !== undefined ? { previousValue } : {}),
            ...(newValue !== undefined ? { newValue } : {}),
          }),
        );
      } else if (row.action === 'DELETE') {
        throw new ValidationError(
          'action',
          'DELETE of a memory that is still in the vector store; the memory is imported without this event',
        );
      } else {
        throw new ValidationError('action', `unknown Mem0 history action ${JSON.stringify(row.action)}`);
      }
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      badHistory.push({ at: `${row.at} (memory ${memory.id})`, reason: error.message });
    }
  }
  if (!events.some((item) => item.event === 'ADD')) {
    const firstText = events.find((item) => item.previousValue !== undefined)?.previousValue ?? memory.text;
    events.unshift(event({ event: 'ADD', newValue: firstText, createdAt: memory.createdAt }));
  }
  return { events, badHistory };
}

function optionalText(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return validateText(value, field);
}
