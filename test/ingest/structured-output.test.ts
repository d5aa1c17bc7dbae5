import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { z } from 'zod';
import { LLMError } from '../../src/core/errors.js';
import { parseStructuredReply } from '../../src/ingest/structured-output.js';

const Facts = z.object({
  facts: z.array(z.object({ text: z.string().min(1), kind: z.enum(['preference', 'fact']) })),
});
const expected = { facts: [{ text: 'Likes tea', kind: 'preference' as const }] };
const json = JSON.stringify(expected);

function invalid(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseStructuredReply(text, Facts, 'fact extraction'),
    (error: unknown) => {
      assert.ok(error instanceof LLMError, `expected LLMError, got ${String(error)}`);
      assert.equal(error.code, 'llm_invalid_reply');
      assert.equal(error.retryable, false);
      assert.equal(error.rawText, text);
      assert.match(error.message, /^fact extraction: /);
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('parseStructuredReply: accepted shapes', () => {
  test('a bare JSON object, with surrounding whitespace', () => {
    assert.deepEqual(parseStructuredReply(`\n  ${json}  \n`, Facts, 'x'), expected);
  });

  test('a ```json fence', () => {
    assert.deepEqual(parseStructuredReply(`\`\`\`json\n${json}\n\`\`\``, Facts, 'x'), expected);
  });

  test('a bare ``` fence, and a fence after leading prose', () => {
    assert.deepEqual(parseStructuredReply(`\`\`\`\n${json}\n\`\`\``, Facts, 'x'), expected);
    assert.deepEqual(
      parseStructuredReply(`Here you go:\n\n\`\`\`JSON\n${json}\n\`\`\`\n`, Facts, 'x'),
      expected,
    );
  });

  test('leading prose, even prose that contains braces', () => {
    assert.deepEqual(parseStructuredReply(`Here is the result:\n${json}`, Facts, 'x'), expected);
    assert.deepEqual(parseStructuredReply(`Result {as asked}: ${json}`, Facts, 'x'), expected);
  });

  test('backticks inside JSON strings are content, not a fence', () => {
    const withTicks = { facts: [{ text: 'Writes ```ts fences``` in notes', kind: 'fact' as const }] };
    assert.deepEqual(parseStructuredReply(JSON.stringify(withTicks), Facts, 'x'), withTicks);
    assert.deepEqual(parseStructuredReply(`Here: ${JSON.stringify(withTicks)}`, Facts, 'x'), withTicks);
  });

  test('returns the schema output (defaults and transforms applied)', () => {
    const schema = z.object({ count: z.string().transform(Number), note: z.string().default('none') });
    assert.deepEqual(parseStructuredReply('{"count":"3"}', schema, 'x'), { count: 3, note: 'none' });
  });

  test('an empty list is a valid reply when the schema allows it', () => {
    assert.deepEqual(parseStructuredReply('{"facts":[]}', Facts, 'x'), { facts: [] });
  });
});

describe('parseStructuredReply: invalid replies throw, never an empty result', () => {
  test('empty or whitespace', () => {
    invalid('', /empty/);
    invalid('   \n', /empty/);
  });

  test('prose without JSON', () => {
    invalid('I could not find any facts in this conversation.', /no JSON object/);
    invalid('Facts: {none found}', /not valid JSON/);
  });

  test('JSON-like but invalid (single quotes, trailing comma)', () => {
    invalid("{'facts': []}", /not valid JSON/);
    invalid('{"facts": [],}', /not valid JSON/);
  });

  test('trailing prose after the object', () => {
    invalid(`${json}\nLet me know if you need more.`, /text follows the JSON object/);
    invalid(`Sure: ${json} Anything else?`, /text follows the JSON object/);
  });

  test('text after a closing fence', () => {
    invalid(`\`\`\`json\n${json}\n\`\`\`\nHope this helps!`, /follows the code fence/);
  });

  test('truncated JSON (max_tokens cut the reply)', () => {
    invalid(json.slice(0, -5), /never closed/);
    // The inner object is complete, the outer one is not: still invalid, not the inner object.
    invalid('Here: {"facts": [{"text": "Likes tea", "kind": "preference"}', /never closed/);
  });

  test('an array or a scalar instead of an object', () => {
    invalid(JSON.stringify(expected.facts), /array/);
    invalid('```json\n42\n```', /expected a JSON object/);
  });

  test('two objects', () => {
    invalid(`${json}\n${json}`, /text follows the JSON object/);
    invalid(`Two answers: ${json} ${json}`, /text follows the JSON object/);
  });

  test('JSON that does not match the schema names the failing path', () => {
    invalid('{"facts":[{"text":"Likes tea","kind":"opinion"}]}', /does not match[\s\S]*facts/);
    invalid('{"memories":[]}', /does not match[\s\S]*facts/);
  });

  test('the zod error is kept as the cause', () => {
    try {
      parseStructuredReply('{"facts":"nope"}', Facts, 'x');
      assert.fail('expected a throw');
    } catch (error) {
      assert.ok(error instanceof LLMError);
      assert.ok(error.cause instanceof z.ZodError);
    }
  });
});

test('property: any JSON object survives leading prose and an optional fence', () => {
  const anyObject = z.record(z.string(), z.unknown());
  const prose = fc.string({ maxLength: 40 }).filter((text) => !/[{}`[]/.test(text));
  // `__proto__` keys are dropped on purpose (next test), so the generator leaves them out.
  const key = fc.string().filter((text) => text !== '__proto__');
  fc.assert(
    fc.property(fc.dictionary(key, fc.jsonValue()), prose, fc.boolean(), (object, lead, fenced) => {
      const body = JSON.stringify(object);
      const reply = fenced ? `${lead}\n\`\`\`json\n${body}\n\`\`\`` : `${lead} ${body}`;
      assert.deepEqual(parseStructuredReply(reply, anyObject, 'property'), JSON.parse(body));
    }),
    { numRuns: 300 },
  );
});

test('a "__proto__" key in a reply is dropped and changes no prototype', () => {
  const anyObject = z.record(z.string(), z.unknown());
  const parsed = parseStructuredReply('{"__proto__": {"polluted": true}, "kept": 1}', anyObject, 'x');
  assert.deepEqual(Object.keys(parsed), ['kept']);
  assert.equal(Object.getPrototypeOf(parsed), Object.prototype);
  assert.equal((parsed as { polluted?: unknown }).polluted, undefined);
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
});
