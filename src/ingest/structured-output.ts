/**
 * Turns a language model's reply into a validated object. The pipeline asks models for one JSON object; this
 * module is the single place that decides what counts as such a reply.
 *
 * Tolerated around the object, and nothing more: leading prose ("Here is the result:") and one Markdown code
 * fence (```json ... ``` or ``` ... ```). Trailing prose, several objects, arrays, or JSON that fails the schema
 * are invalid replies.
 *
 * An invalid reply throws LLMError `llm_invalid_reply` with `retryable: false` and the reply as `rawText`. Not
 * retryable by choice: prompts run at temperature 0 where the provider allows it, so asking again mostly
 * repeats the same reply; the caller (the ingestion queue) records the failure with the raw text instead of
 * looping on it.
 */
import { z } from 'zod';
import { LLMError } from '../core/errors.js';

const FENCE = /```[ \t]*(?:json)?[ \t]*\r?\n?([\s\S]*?)```/i;
/** Leading prose may itself contain `{...}` groups: try this many before giving up. */
const MAX_OBJECT_STARTS = 32;

/**
 * Extracts the JSON object from `text` and validates it with `schema`.
 *
 * @param context what the reply was for, used in error messages (e.g. `fact extraction`).
 * @returns the schema's output; never an empty stand-in for an invalid reply.
 * @throws LLMError (`llm_invalid_reply`, not retryable, `rawText` = `text`) when no JSON object can be
 *   extracted or it does not match the schema.
 */
export function parseStructuredReply<T>(text: string, schema: z.ZodType<T>, context: string): T {
  const fail = (problem: string, cause?: unknown): LLMError =>
    new LLMError(`${context}: the language model's reply is not usable: ${problem}`, {
      code: 'llm_invalid_reply',
      retryable: false,
      rawText: text,
      cause,
    });

  const value = extractObject(text, fail);
  const result = schema.safeParse(value);
  if (!result.success) {
    throw fail(
      `the JSON does not match the expected shape:\n${truncate(z.prettifyError(result.error), 2000)}`,
      result.error,
    );
  }
  return result.data;
}

function extractObject(
  text: string,
  fail: (problem: string, cause?: unknown) => LLMError,
): Record<string, unknown> {
  const trimmed = text.trim();
  if (trimmed === '') throw fail('it is empty');

  const fence = FENCE.exec(trimmed);
  const firstBrace = trimmed.indexOf('{');
  // A fence only counts when it opens before the object: "```" inside a JSON string is content.
  if (fence && (firstBrace === -1 || fence.index < firstBrace)) {
    const after = trimmed.slice(fence.index + fence[0].length);
    if (after.trim() !== '') throw fail('text follows the code fence');
    const inner = (fence[1] ?? '').trim();
    return parseObject(inner, fail);
  }

  if (trimmed.startsWith('[')) return parseObject(trimmed, fail);

  // The object is the first balanced `{...}` that parses (brace groups in leading prose are skipped whole),
  // and it must end the reply.
  let problem: string | undefined;
  let from = 0;
  for (let tries = 0; tries < MAX_OBJECT_STARTS; tries++) {
    const start = from === 0 ? firstBrace : trimmed.indexOf('{', from);
    if (start === -1) break;
    const end = closingBrace(trimmed, start);
    if (end === -1) throw fail('its JSON object is never closed (was the reply cut short by maxTokens?)');
    let value: unknown;
    try {
      value = JSON.parse(trimmed.slice(start, end));
    } catch (error) {
      problem ??= `it is not valid JSON (${error instanceof Error ? error.message : String(error)})`;
      if (start === 0) break;
      from = end;
      continue;
    }
    if (trimmed.slice(end).trim() !== '') throw fail('text follows the JSON object');
    return value as Record<string, unknown>;
  }
  throw fail(problem ?? 'it holds no JSON object');
}

/** Index just past the `}` that closes the `{` at `start` (skipping JSON strings), or -1 if it never closes. */
function closingBrace(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let index = start; index < text.length; index++) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index++;
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
    } else if (char === '{') {
      depth++;
    } else if (char === '}') {
      depth--;
      if (depth === 0) return index + 1;
    }
  }
  return -1;
}

function parseObject(
  candidate: string,
  fail: (problem: string, cause?: unknown) => LLMError,
): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(candidate);
  } catch (error) {
    throw fail(`it is not valid JSON (${error instanceof Error ? error.message : String(error)})`, error);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(`expected a JSON object, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length)}...`;
}
