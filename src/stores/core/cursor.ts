/**
 * Opaque cursors and instants. A cursor is the base64url JSON of a fixed number of string parts: `[createdAt, id]`
 * for `list` (see {@link decodePageCursor}), `[id]` for `scan` ({@link decodeScanCursor}). A malformed cursor is a
 * ValidationError naming the field and saying to pass `nextCursor` back unchanged.
 */
import { ValidationError } from '../../core/errors.js';
import type { PageKey } from './visibility.js';

/** Encodes cursor parts as an opaque URL-safe string. */
export function encodeCursor(parts: string[]): string {
  return Buffer.from(JSON.stringify(parts), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor} with exactly `length` parts.
 * @throws ValidationError naming `field` when the cursor is malformed.
 */
export function decodeCursor(cursor: string, length: number, field: string): string[] {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== length || !parts.every((part) => typeof part === 'string')) {
    throw new ValidationError(field, 'invalid cursor: pass the nextCursor of a previous page unchanged');
  }
  return parts as string[];
}

/** Where a `list` page resumes (undefined for the first page). @throws ValidationError naming `page.cursor`. */
export function decodePageCursor(cursor: string | undefined): PageKey | undefined {
  if (cursor === undefined) return undefined;
  const [createdAt = '', id = ''] = decodeCursor(cursor, 2, 'page.cursor');
  return { createdAt, id };
}

/** The id a `scan` page resumes after ('' for the first page). @throws ValidationError naming `cursor`. */
export function decodeScanCursor(cursor: string | undefined): string {
  return cursor === undefined ? '' : (decodeCursor(cursor, 1, 'cursor')[0] ?? '');
}

/** Adds `ms` milliseconds to an ISO instant. @throws ValidationError naming `now` for a malformed instant. */
export function addMilliseconds(instant: string, ms: number): string {
  const time = Date.parse(instant);
  if (Number.isNaN(time)) throw new ValidationError('now', `expected an ISO-8601 instant, got "${instant}"`);
  return new Date(time + ms).toISOString();
}
