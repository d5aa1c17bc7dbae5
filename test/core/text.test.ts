import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  hashText,
  isLowSignal,
  keywordTerms,
  namesIn,
  normaliseText,
  queryTerms,
} from '../../src/core/text.js';

test('low-signal messages are recognised; informative short ones are kept', () => {
  for (const text of [
    'ok',
    'OK!',
    'thanks',
    'Thank you so much!',
    'hi there',
    'Thanks Claude',
    'ok great',
    '👍',
    '...',
    '',
    'Good morning!',
  ]) {
    assert.equal(isLowSignal(text), true, text);
  }
  for (const text of [
    'yes python',
    'I like Go',
    'ok do it in Rust',
    'thanks, I prefer tabs',
    'no inline comments',
    'My name is Bo',
  ]) {
    assert.equal(isLowSignal(text), false, text);
  }
});

test('normalisation makes trivially different texts hash the same, and different texts differ', () => {
  assert.equal(hashText('I prefer tabs.'), hashText('  i PREFER   tabs '));
  assert.equal(hashText('Café au lait'), hashText('cafe au lait'));
  assert.notEqual(hashText('I prefer tabs'), hashText('I prefer spaces'));
  assert.equal(normaliseText('  Hello,\n World!! '), 'hello, world');
});

test('keyword terms drop stopwords and one-letter tokens and keep unicode words', () => {
  assert.deepEqual(keywordTerms('What is the Zürich office address, and who runs it?'), [
    'zurich',
    'office',
    'address',
    'runs',
  ]);
  assert.deepEqual(keywordTerms('東京 2024 a'), ['東京', '2024']);
  assert.equal(
    keywordTerms('word '.repeat(100) + Array.from({ length: 50 }, (_, i) => `w${i}`).join(' ')).length,
    32,
  );
});

test('queryTerms drops the words that frame a question, unless nothing else is asked', () => {
  assert.deepEqual(queryTerms('What did I say about the gym?'), ['gym']);
  assert.deepEqual(queryTerms('When did we last talk about the kitten with Priya?'), ['kitten', 'priya']);
  assert.deepEqual(queryTerms('What kind of car did she mention?'), ['car']);
  assert.deepEqual(queryTerms('what did they talk about?'), ['talk'], 'framing words alone are the query');
  assert.deepEqual(
    keywordTerms('What did I say about the gym?'),
    ['say', 'gym'],
    'indexing keeps every word',
  );
});

test('namesIn finds a name as whole words in order, ignoring case and accents', () => {
  const cases: Array<[string, string, boolean]> = [
    ['What did Melanie paint?', 'Melanie', true],
    ["what did melanie's kids paint", 'Melanie', true],
    ['Did ZOË call?', 'Zoe', true],
    ['When did Mary Ann move?', 'Mary Ann', true],
    ['When did Ann Mary move?', 'Mary Ann', false],
    ['Did the Melanies paint?', 'Melanie', false],
    ['What did Carol paint?', 'Caroline', false],
    ['What did I say?', '', false],
    ['What did I say?', '??', false],
    ['Ask Bob', 'Bob', true],
  ];
  for (const [text, name, expected] of cases) {
    assert.equal(namesIn(text, [name]).has(name), expected, `${text} / ${name}`);
  }
  // Several names at once: each is found or not on its own.
  assert.deepEqual(
    [...namesIn('What did Caroline tell Mary Ann?', ['Mary Ann', 'Melanie', 'Caroline'])],
    ['Mary Ann', 'Caroline'],
  );
});
