/**
 * Reply context (core/reply-context.ts): a named speaker's turn keeps the previous turns of its conversation as
 * context, the keyword index of the store indexes that context with the turn, and search returns the turn itself.
 * Runs on a real SQLite file with no LLM.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { keywordText, REPLY_TO_KEY, replyContextMetadata } from '../../src/core/reply-context.js';
import { extractVerbatim } from '../../src/ingest/verbatim.js';
import { createMemory, type Memory } from '../../src/memory/memory.js';
import { createTestEmbedder } from '../support/test-embedder.js';

let dir: string;
let memory: Memory;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mneme-reply-context-'));
  memory = await createMemory({
    store: `sqlite://${join(dir, 'mneme.db')}`,
    embedder: createTestEmbedder({ dimension: 32 }),
    llm: null,
    env: {},
    logLevel: 'silent',
    ingestion: { background: false },
  });
});
after(async () => {
  await memory.close();
  rmSync(dir, { recursive: true, force: true });
});

const SESSION = '2023-05-08T13:56:00.000Z';

async function say(userId: string, name: string, content: string, observedAt = SESSION, runId?: string) {
  const { results } = await memory.add([{ role: 'user', name, content }], {
    userId,
    ...(runId ? { runId } : {}),
    infer: false,
    observedAt,
  });
  const id = results[0]?.id;
  assert.ok(id, `stored: ${content}`);
  const record = await memory.get(id);
  assert.ok(record);
  return record;
}

test('extraction: each named turn keeps the two turns before it in the call, labels removed, cut at 300', () => {
  const long = `Mel: ${'x'.repeat(400)}`;
  const { candidates } = extractVerbatim({
    messages: [
      { role: 'user', name: 'Caroline', content: 'Caroline: What gave you the idea for the mural?' },
      { role: 'user', name: 'Mel', content: 'Mel: I am obsessed with those colours.' },
      { role: 'user', name: 'Caroline', content: 'Caroline: They really pop.' },
      { role: 'user', name: 'Mel', content: long },
    ],
    scope: { userId: 'u' },
    metadata: {},
    observedAt: SESSION,
    infer: false,
    actor: 'test',
    now: SESSION,
    priorTurns: ['an earlier turn'],
  });
  const contexts = candidates.map((candidate) => candidate.metadata?.[REPLY_TO_KEY]);
  assert.deepEqual(contexts.slice(0, 3), [
    'an earlier turn',
    'an earlier turn\nWhat gave you the idea for the mural?',
    'What gave you the idea for the mural?\nI am obsessed with those colours.',
  ]);
  assert.equal(candidates[3]?.text, long, 'the memory itself is stored whole');
  const lastContext = String(contexts[3]);
  assert.equal(lastContext.startsWith('I am obsessed with those colours.\nThey really pop.'), true);
  assert.equal(replyContextMetadata([long])[REPLY_TO_KEY]?.toString().length, 300);
});

test('one turn per add: the context comes from the stored turns of the same conversation', async () => {
  const question = await say('carol', 'Caroline', 'Caroline: What gave you the idea for the mural?');
  const answer = await say('carol', 'Mel', "Mel: I'm obsessed with those colours, they make me happy.");
  const third = await say('carol', 'Caroline', 'Caroline: They really pop!');
  assert.equal(question.metadata[REPLY_TO_KEY], undefined, 'the first turn has no context');
  assert.equal(answer.metadata[REPLY_TO_KEY], 'What gave you the idea for the mural?');
  assert.equal(
    third.metadata[REPLY_TO_KEY],
    "What gave you the idea for the mural?\nI'm obsessed with those colours, they make me happy.",
  );
  assert.equal(answer.memory, "Mel: I'm obsessed with those colours, they make me happy.");
  assert.equal(keywordText(answer), `${answer.memory}\nWhat gave you the idea for the mural?`);
});

test('keyword search finds the answer by the words of the question it answered, and returns the answer', async () => {
  const { results } = await memory.search('mural idea', { userId: 'carol', mode: 'keyword', limit: 5 });
  const texts = results.map((hit) => hit.memory);
  assert.ok(texts.includes("Mel: I'm obsessed with those colours, they make me happy."), texts.join(' | '));
  assert.ok(
    results.every((hit) => !hit.memory.includes('\n')),
    'the memory text is returned, not its context',
  );
});

test('no context across a gap of hours, another run, or another user', async () => {
  await say('dave', 'Dave', 'Dave: I adopted a greyhound named Comet.', '2023-06-01T10:00:00.000Z');
  const later = await say('dave', 'Eve', 'Eve: Lovely! Send photos.', '2023-06-03T10:00:00.000Z');
  assert.equal(later.metadata[REPLY_TO_KEY], undefined, 'two days later is another conversation');
  const otherRun = await say(
    'dave',
    'Eve',
    'Eve: The weather is great.',
    '2023-06-03T10:05:00.000Z',
    'run-2',
  );
  assert.equal(otherRun.metadata[REPLY_TO_KEY], undefined, 'another run is another conversation');
  const otherUser = await say('frank', 'Frank', 'Frank: Hello there, new here.', '2023-06-03T10:06:00.000Z');
  assert.equal(otherUser.metadata[REPLY_TO_KEY], undefined);
});

test('erasing a turn removes its text from the context of the turns that copied it', async () => {
  const secret = await say('gina', 'Gina', 'Gina: My locker code is qxzumbrella.');
  const reply = await say('gina', 'Hal', 'Hal: Noted, I will not tell anyone.');
  assert.match(String(reply.metadata[REPLY_TO_KEY]), /qxzumbrella/);
  await memory.erase(secret.id);
  const after = await memory.get(reply.id);
  assert.equal(after?.metadata[REPLY_TO_KEY], undefined, 'the copy is gone');
  assert.equal(after?.memory, 'Hal: Noted, I will not tell anyone.', 'the reply itself stays');
  const { results } = await memory.search('qxzumbrella', { userId: 'gina', mode: 'keyword' });
  assert.deepEqual(results, [], 'the keyword index no longer holds the erased words');
  const history = await memory.history(reply.id);
  assert.ok(history.every((event) => !JSON.stringify(event).includes('qxzumbrella')));
  assert.match(history[history.length - 1]?.reason ?? '', /reply context removed/);
  const files = ['mneme.db', 'mneme.db-wal']
    .map((name) => join(dir, name))
    .filter((file) => existsSync(file));
  for (const file of files) {
    assert.equal(
      readFileSync(file).includes(Buffer.from('zumbrella')),
      false,
      `erased words left in ${file}`,
    );
  }
});
