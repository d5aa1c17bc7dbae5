import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectPreference } from '../../src/ingest/preferences.js';

test('explicit first-person preferences get a topic; later ones on the same topic share it', () => {
  const cases: Array<[string, string, string[]]> = [
    ['I prefer tabs', 'pref:tab', []],
    ['I really like Python', 'pref:python', []],
    ["I don't like Python", 'pref:python', []],
    ['I prefer spaces over tabs', 'pref:space', ['pref:tab']],
    ['I switched from vim to neovim', 'pref:neovim', ['pref:vim']],
    ['I switched from Python to Go for backend services', 'pref:for:service', ['pref:python', 'pref:go']],
    ['I prefer Python for backend services', 'pref:for:service', []],
    ['My favorite color is blue', 'favorite:color', []],
    ['My favourite color is green', 'favorite:color', []],
    ['From now on, always answer in French', 'instruction:french', []],
    ['Thanks. I prefer dark mode', 'pref:mode', []],
  ];
  for (const [text, topic, replaces] of cases) {
    assert.deepEqual(detectPreference(text), { topic, replacesTopics: replaces }, text);
  }
});

test('questions, third-person and plain statements are not preferences', () => {
  for (const text of [
    'Do I prefer tabs?',
    'Bob prefers tabs',
    'The build is green',
    'We deployed on Friday',
    '',
  ]) {
    assert.equal(detectPreference(text), undefined, text);
  }
});
