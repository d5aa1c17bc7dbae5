/**
 * Input validation for every public operation. Each check throws {@link ValidationError} naming the field
 * and the fix; nothing is written before validation passes.
 */
import { ValidationError } from './errors.js';
import { normaliseDate } from './filters.js';
import { type JsonValue, type Message, type Metadata, type Role, SCOPE_KEYS, type Scope } from './types.js';

/** Limits on caller input. Exposed so edges (HTTP, MCP) can document them. */
export const LIMITS = {
  idLength: 256,
  memoryTextLength: 20_000,
  messagesPerAdd: 500,
  metadataBytes: 16_384,
  metadataDepth: 6,
  queryLength: 4_000,
  searchLimit: 1_000,
  listLimit: 1_000,
} as const;

const ROLES: ReadonlySet<string> = new Set(['user', 'assistant', 'system', 'tool']);
// Printable, no control characters; ids and scope values end up in URLs, logs and keys.
const IDENTIFIER = /^[^\p{Cc}\p{Cs}]+$/u;

/** Validates an identifier-like string (ids and scope values). */
export function validateIdentifier(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ValidationError(field, 'expected a non-empty string');
  }
  if (value.length > LIMITS.idLength)
    throw new ValidationError(field, `at most ${LIMITS.idLength} characters`);
  if (!IDENTIFIER.test(value)) throw new ValidationError(field, 'control characters are not allowed');
  return value;
}

/**
 * Extracts the scope from an options object; requires at least one of userId, agentId, runId, appId.
 * @param required when false, an empty scope is allowed (id-addressed operations).
 */
export function validateScope(input: unknown, options: { required: boolean; field?: string }): Scope {
  const field = options.field ?? 'options';
  if (input !== undefined && (typeof input !== 'object' || input === null || Array.isArray(input))) {
    throw new ValidationError(field, 'expected an options object such as { userId: "alice" }');
  }
  const source = (input ?? {}) as Record<string, unknown>;
  const scope: Scope = {};
  for (const key of SCOPE_KEYS) {
    const value = source[key];
    if (value === undefined || value === null) continue;
    scope[key] = validateIdentifier(value, `${field}.${key}`);
  }
  if (options.required && Object.keys(scope).length === 0) {
    throw new ValidationError(
      `${field}.userId`,
      'every operation needs a scope: pass at least one of userId, agentId, runId or appId',
    );
  }
  return scope;
}

/** Normalises `add` input (a string, one message, or an array of messages) into messages. */
export function validateMessages(input: unknown): Message[] {
  if (typeof input === 'string') return [{ role: 'user', content: validateText(input, 'messages') }];
  const list = Array.isArray(input) ? input : [input];
  if (list.length === 0) throw new ValidationError('messages', 'expected a string or at least one message');
  if (list.length > LIMITS.messagesPerAdd) {
    throw new ValidationError(
      'messages',
      `at most ${LIMITS.messagesPerAdd} messages per call; split the batch`,
    );
  }
  return list.map((item, index) => {
    const field = `messages[${index}]`;
    if (typeof item !== 'object' || item === null) {
      throw new ValidationError(
        field,
        'expected { role: "user" | "assistant" | "system" | "tool", content: string }',
      );
    }
    const record = item as Record<string, unknown>;
    if (typeof record.role !== 'string' || !ROLES.has(record.role)) {
      throw new ValidationError(`${field}.role`, 'expected one of "user", "assistant", "system", "tool"');
    }
    const message: Message = {
      role: record.role as Role,
      content: validateText(contentText(record.content, `${field}.content`), `${field}.content`),
    };
    if (record.name !== undefined && record.name !== null) {
      message.name = validateIdentifier(record.name, `${field}.name`);
    }
    return message;
  });
}

// Accepts Anthropic-style content blocks too: the text blocks are joined.
function contentText(content: unknown, field: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block, index) => {
        if (typeof block === 'string') return block;
        if (typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text') {
          const text = (block as { text?: unknown }).text;
          if (typeof text === 'string') return text;
        }
        if (typeof block === 'object' && block !== null) return '';
        throw new ValidationError(`${field}[${index}]`, 'expected a text block { type: "text", text }');
      })
      .filter((text) => text.length > 0)
      .join('\n');
  }
  throw new ValidationError(field, 'expected a string (or an array of text blocks)');
}

/**
 * The one rule for text that mneme stores, applied by every store to everything it writes and by the API edges
 * to what they accept: no NUL character (U+0000), which PostgreSQL cannot store, and well-formed Unicode (no
 * lone surrogate), which SQLite and PostgreSQL would silently replace with U+FFFD while the in-memory store kept
 * it. A memory must be storable in every backend alike (`mneme copy` must not fail halfway) and read back as
 * written. Invalid UTF-8 never reaches a JS string: decoders have already replaced it with U+FFFD, which is valid.
 * Walks strings inside arrays and plain objects (keys too); other values are left to their own validation.
 * @throws ValidationError naming the field and the index of the offending character.
 */
export function assertStorableText(value: unknown, field: string): void {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    if (problem !== undefined) throw new ValidationError(field, problem);
    return;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) assertStorableText(item, `${field}[${index}]`);
    return;
  }
  if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) {
      const problem = textProblem(key);
      if (problem !== undefined) throw new ValidationError(field, `a key ${problem}`);
      assertStorableText(item, `${field}.${key}`);
    }
  }
}

/** What breaks the rule in `text`, or undefined. */
function textProblem(text: string): string | undefined {
  const nul = text.indexOf('\u0000');
  if (nul !== -1) {
    return `contains a NUL character (U+0000) at index ${nul}; no store keeps NUL characters: remove it`;
  }
  // With the u flag a surrogate pair is one code point, so \p{Cs} matches only a lone surrogate.
  const lone = /\p{Cs}/u.exec(text);
  if (lone === null) return undefined;
  const code = text.charCodeAt(lone.index);
  return (
    `contains a lone surrogate (U+${code.toString(16).toUpperCase()}) at index ${lone.index}, which is not ` +
    'valid Unicode: fix the encoding of the text (e.g. do not cut a string inside an emoji)'
  );
}

/** Validates memory text length (empty text is allowed here; the pipeline reports it as skipped). */
export function validateText(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ValidationError(field, 'expected a string');
  if (value.length > LIMITS.memoryTextLength) {
    throw new ValidationError(field, `at most ${LIMITS.memoryTextLength} characters; split long text`);
  }
  assertStorableText(value, field);
  return value;
}

/** Validates metadata: a plain JSON object within size and depth limits. */
export function validateMetadata(value: unknown, field = 'metadata'): Metadata {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(field, 'expected a plain object such as { "repo": "api" }');
  }
  checkJson(value, field, 0);
  assertStorableText(value, field);
  const size = Buffer.byteLength(JSON.stringify(value));
  if (size > LIMITS.metadataBytes) {
    throw new ValidationError(field, `at most ${LIMITS.metadataBytes} bytes as JSON (got ${size})`);
  }
  return structuredClone(value) as Metadata;
}

function checkJson(value: unknown, field: string, depth: number): asserts value is JsonValue {
  if (depth > LIMITS.metadataDepth)
    throw new ValidationError(field, `nested deeper than ${LIMITS.metadataDepth}`);
  if (typeof value === 'string' || value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ValidationError(field, 'numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) checkJson(item, `${field}[${index}]`, depth + 1);
    return;
  }
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const [key, item] of Object.entries(value)) checkJson(item, `${field}.${key}`, depth + 1);
    return;
  }
  throw new ValidationError(
    field,
    'expected JSON values only (string, number, boolean, null, array, object)',
  );
}

/** Validates an optional date, returning its ISO form. */
export function validateOptionalDate(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  return normaliseDate(value, field);
}

/** Validates a positive integer option within bounds. */
export function validatePositiveInteger(
  value: unknown,
  field: string,
  fallback: number,
  max: number,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ValidationError(field, `expected an integer from 1 to ${max}`);
  }
  return value;
}

/** Validates an optional number in [0, 1]. */
export function validateUnitInterval(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new ValidationError(field, 'expected a number from 0 to 1');
  }
  return value;
}

/** Validates the search query text. */
export function validateQuery(value: unknown): string {
  if (typeof value !== 'string' || value.trim().length === 0) {
    throw new ValidationError('query', 'expected a non-empty string');
  }
  if (value.length > LIMITS.queryLength)
    throw new ValidationError('query', `at most ${LIMITS.queryLength} characters`);
  return value;
}
