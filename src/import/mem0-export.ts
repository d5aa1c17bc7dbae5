/**
 * Reads a Mem0 platform export: the memories as the platform's API returns them (output format v1.1, the objects
 * of `client.getAll()` / `GET /v1/memories/` / `POST /v2/memories/`), saved as JSON. Accepted layouts:
 * - a JSON array of memory objects;
 * - an object with a `results` array (what `getAll` returns, paged or not: `{ count, next, previous, results }`);
 * - JSON Lines: one memory object per line (blank lines ignored).
 *
 * Each memory object: `id` (string, required), `memory` (string, required), `user_id` / `agent_id` / `run_id` /
 * `app_id` (string or null; at least one), `metadata` (object or null), `categories` (array of strings or null),
 * `created_at` (ISO date-time, required), `updated_at` (ISO date-time or null), `expiration_date`
 * (`YYYY-MM-DD` or null), `immutable` (boolean, kept). Other fields (`hash`, `owner`, `organization`, `input`,
 * `score`, ...) are ignored. The platform export carries no history: each memory gets one ADD event at its
 * `created_at`.
 */

import { ValidationError } from '../core/errors.js';
import type { Mem0Memory, Mem0Read } from './mem0-memory.js';

/** Parses an export held in `text`; `source` names it in reports (a path or a URL). */
export function parseMem0Export(text: string, source: string): Mem0Read {
  const read: Mem0Read = { rows: [], deleted: [] };
  const trimmed = text.trim();
  if (trimmed.length === 0) {
    throw new ValidationError('source', `${source} is empty; expected a Mem0 export (JSON or JSON Lines)`);
  }
  const whole = parseWhole(trimmed, source);
  if (whole !== undefined) {
    whole.forEach((item, index) => {
      const id = typeof item === 'object' && item !== null ? (item as { id?: unknown }).id : undefined;
      addItem(read, item, `${source} item ${index + 1}${typeof id === 'string' ? ` (id ${id})` : ''}`);
    });
    return read;
  }
  text.split('\n').forEach((line, index) => {
    if (line.trim().length === 0) return;
    const at = `${source}:${index + 1}`;
    let item: unknown;
    try {
      item = JSON.parse(line);
    } catch {
      read.rows.push({ bad: { at, reason: 'is not valid JSON; expected one Mem0 memory object per line' } });
      return;
    }
    addItem(read, item, at);
  });
  return read;
}

/** The items of a whole-document export, or undefined when the text is not one JSON document (JSON Lines). */
function parseWhole(text: string, source: string): unknown[] | undefined {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    if (text.startsWith('[')) {
      throw new ValidationError('source', `${source} is not valid JSON: ${(error as Error).message}`);
    }
    return undefined;
  }
  if (Array.isArray(document)) return document;
  if (typeof document === 'object' && document !== null) {
    const { results } = document as { results?: unknown };
    if (Array.isArray(results)) return results;
    // One memory object on a single line is JSON Lines with one row.
    if ('memory' in document || 'id' in document) return [document];
  }
  throw new ValidationError(
    'source',
    `${source}: expected a JSON array of Mem0 memories, an object with a "results" array (getAll output), ` +
      'or JSON Lines (one memory per line)',
  );
}

function addItem(read: Mem0Read, item: unknown, at: string): void {
  if (typeof item !== 'object' || item === null || Array.isArray(item)) {
    read.rows.push({
      bad: { at, reason: 'expected a Mem0 memory object { "id", "memory", "user_id", ... }' },
    });
    return;
  }
  const fields = item as Record<string, unknown>;
  const memory: Mem0Memory = {
    at,
    format: 'platform-export',
    id: fields.id,
    text: fields.memory,
    userId: fields.user_id,
    agentId: fields.agent_id,
    runId: fields.run_id,
    appId: fields.app_id,
    metadata: fields.metadata,
    categories: fields.categories,
    createdAt: fields.created_at,
    updatedAt: fields.updated_at,
    expirationDate: fields.expiration_date,
    extra: { immutable: fields.immutable },
    history: [],
  };
  read.rows.push({ memory });
}
