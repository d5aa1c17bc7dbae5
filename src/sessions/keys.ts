/**
 * Session key validation and encoding, shared by every backend.
 *
 * Validation is the same everywhere (so a key accepted by one store is accepted by all); encoding turns a key
 * part into a name that is safe as a file name, an S3 key segment or a Redis key segment: it can never be
 * `.`/`..`, never contains a separator, is distinct from every other part's name even on case-insensitive
 * file systems, and stays short enough for file systems (long parts are shortened with a hash, and the
 * backend keeps the original beside it).
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../core/errors.js';
import { assertStorableText } from '../core/validate.js';
import type { SessionKey, SessionStoreEntry } from './types.js';

/** The longest accepted `projectKey`, `sessionId` or `subpath`, in UTF-16 code units. */
export const MAX_KEY_PART_LENGTH = 1024;

/** Encoded names longer than this are shortened with a hash (file names are limited to 255 bytes). */
const MAX_ENCODED_LENGTH = 160;

/** Throws a {@link ValidationError} naming the field unless `value` is an acceptable key part. */
export function validateKeyPart(field: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') {
    throw new ValidationError(field, `must be a string, got ${value === null ? 'null' : typeof value}`);
  }
  if (value.length === 0) {
    throw new ValidationError(
      field,
      field.endsWith('subpath')
        ? 'must not be empty: omit `subpath` for the main transcript'
        : 'must not be empty',
    );
  }
  if (value.length > MAX_KEY_PART_LENGTH) {
    throw new ValidationError(
      field,
      `is ${value.length} characters long; the limit is ${MAX_KEY_PART_LENGTH}. Use a shorter id (the SDK ` +
        'shortens long project keys itself; a custom projectKey can be a tenant id or a hash).',
    );
  }
  // The same rule as every memory store's text: no NUL, no lone surrogate.
  assertStorableText(value, field);
}

/** Validates every part of a session key; `subpath` may be absent (main transcript). */
export function validateSessionKey(key: SessionKey): void {
  if (typeof key !== 'object' || key === null) {
    throw new ValidationError('key', 'must be an object { projectKey, sessionId, subpath? }');
  }
  validateKeyPart('key.projectKey', key.projectKey);
  validateKeyPart('key.sessionId', key.sessionId);
  if (key.subpath !== undefined) validateKeyPart('key.subpath', key.subpath);
}

/**
 * Validates a batch for `append` and returns each entry serialized as one JSON line.
 * @throws ValidationError when `entries` is not an array of JSON objects.
 */
export function serializeEntries(entries: SessionStoreEntry[]): string[] {
  if (!Array.isArray(entries)) throw new ValidationError('entries', 'must be an array of transcript entries');
  return entries.map((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ValidationError(`entries[${index}]`, 'must be a JSON object');
    }
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch (error) {
      throw new ValidationError(`entries[${index}]`, 'is not JSON-serializable', { cause: error });
    }
    return line;
  });
}

/** The idempotency key of an entry, or undefined when it has none (such entries are never deduplicated). */
export function entryUuid(entry: SessionStoreEntry): string | undefined {
  const uuid = entry.uuid;
  return typeof uuid === 'string' && uuid.length > 0 ? uuid : undefined;
}

/** Adds the uuid of each of `entries` that has one to `uuids` (a backend's record of what a transcript holds). */
export function addUuids(uuids: Set<string>, entries: Iterable<SessionStoreEntry>): void {
  for (const entry of entries) {
    const uuid = entryUuid(entry);
    if (uuid !== undefined) uuids.add(uuid);
  }
}

/**
 * Indexes of the entries of a batch to append: those without a uuid, and the first occurrence of each uuid
 * that `isKnown` does not report. `isKnown` sees every uuid of the batch once, in order.
 */
export function newEntryIndexes(entries: SessionStoreEntry[], isKnown: (uuid: string) => boolean): number[] {
  const seen = new Set<string>();
  const indexes: number[] = [];
  entries.forEach((entry, index) => {
    const uuid = entryUuid(entry);
    if (uuid === undefined) {
      indexes.push(index);
      return;
    }
    if (seen.has(uuid)) return;
    seen.add(uuid);
    if (!isKnown(uuid)) indexes.push(index);
  });
  return indexes;
}

/** An encoded key part. `shortened` means the name holds a hash and cannot be decoded back. */
export interface EncodedKeyPart {
  name: string;
  shortened: boolean;
}

/**
 * Encodes a key part as a safe name: `[a-z0-9_-]` stay, an upper-case letter becomes `^` plus the lower-case
 * letter (so names differ even on case-insensitive file systems), every other byte of its UTF-8 form becomes
 * `%xx` (lower-case hex). The result never contains `/`, `\`, `:`, `.` or `~` and never starts with `.`.
 * Past `maxLength` (file and S3 backends; Redis passes `Infinity`), a longer result is cut and suffixed with `~` and a SHA-256 of the
 * raw part: `~` marks the name as shortened, and the backend stores the raw part beside it.
 */
export function encodeKeyPart(
  raw: string,
  maxLength: number | undefined = MAX_ENCODED_LENGTH,
): EncodedKeyPart {
  let name = '';
  for (const character of raw) {
    const code = character.charCodeAt(0);
    const lower = code >= 0x61 && code <= 0x7a;
    const digit = code >= 0x30 && code <= 0x39;
    if (lower || digit || code === 0x5f || code === 0x2d) {
      name += character;
    } else if (code >= 0x41 && code <= 0x5a) {
      name += `^${String.fromCharCode(code + 0x20)}`;
    } else {
      for (const byte of Buffer.from(character, 'utf8')) name += `%${byte.toString(16).padStart(2, '0')}`;
    }
  }
  if (name.length <= maxLength) return { name, shortened: false };
  const digest = createHash('sha256').update(raw, 'utf8').digest('hex').slice(0, 40);
  return { name: `${name.slice(0, maxLength - 41)}~${digest}`, shortened: true };
}

/** Decodes a name made by {@link encodeKeyPart}; undefined for a shortened or foreign name. */
export function decodeKeyPart(name: string): string | undefined {
  if (name.length === 0 || !/^(?:[a-z0-9_-]|\^[a-z]|%[0-9a-f]{2})+$/.test(name)) return undefined;
  const bytes: number[] = [];
  let index = 0;
  while (index < name.length) {
    const character = name.charAt(index);
    if (character === '%') {
      bytes.push(Number.parseInt(name.slice(index + 1, index + 3), 16));
      index += 3;
    } else if (character === '^') {
      bytes.push(
        name
          .charAt(index + 1)
          .toUpperCase()
          .charCodeAt(0),
      );
      index += 2;
    } else {
      bytes.push(character.charCodeAt(0));
      index += 1;
    }
  }
  const decoded = Buffer.from(bytes).toString('utf8');
  // Only names this module produced round-trip; anything else (a stray file) is not a key.
  return encodeKeyPart(decoded, Number.POSITIVE_INFINITY).name === name ? decoded : undefined;
}
