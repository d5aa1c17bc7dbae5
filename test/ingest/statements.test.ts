/**
 * The no-LLM reading of a user's sentences (src/ingest/statements/) and the supersession rules between two
 * statements (src/ingest/supersession.ts relateClaims): one row per behaviour the capture policy promises.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifySentence } from '../../src/ingest/statements/speech-acts.js';
import { claimOfText, relateClaims } from '../../src/ingest/supersession.js';
import { extractVerbatim } from '../../src/ingest/verbatim.js';

describe('what a sentence does', () => {
  const cases: Array<[string, string]> = [
    ['What do you know about me?', 'question'],
    ['How do I add a column without locking', 'question'],
    ['Can you check the build', 'question'],
    ['Clean up the billing service parser code.', 'request'],
    ['Fix the flaky test in payments.', 'request'],
    ['Always write commit messages in the imperative mood.', 'instruction'],
    ['Never use semicolons in JavaScript.', 'instruction'],
    ['Keep your answers short.', 'instruction'],
    ['Use tabs for indentation.', 'instruction'],
    ['Replies in English please.', 'instruction'],
    ['Commit messages should follow Conventional Commits.', 'instruction'],
    ['Ask me before running any shell command.', 'instruction'],
    ['Explain things assuming I am new to TypeScript.', 'instruction'],
    ['Explain this stack trace.', 'question'],
    ["I'm on PostgreSQL 15.", 'statement'],
    ['I prefer tabs for indentation.', 'statement'],
  ];
  for (const [sentence, act] of cases) {
    test(`${JSON.stringify(sentence)} is a ${act}`, () => assert.equal(classifySentence(sentence), act));
  }
});

describe('what a statement claims', () => {
  const cases: Array<[string, string, 'user' | 'other']> = [
    ['I prefer tabs for indentation.', 'preference', 'user'],
    ['I live in Lisbon.', 'user_fact', 'user'],
    ['Our CI runs on Jenkins.', 'user_fact', 'user'],
    ['I develop on Windows.', 'user_fact', 'user'],
    ['Tokyo is where I live.', 'user_fact', 'user'],
    ['Always add a changelog entry.', 'instruction', 'user'],
    ['My colleague Priya prefers spaces.', 'other_fact', 'other'],
    ['Priya no longer uses Jenkins.', 'other_fact', 'other'],
    ['The analytics team upgraded to PostgreSQL 16.', 'other_fact', 'other'],
    ['Yesterday I fixed the parser.', 'message', 'user'],
  ];
  for (const [sentence, kind, about] of cases) {
    test(`${JSON.stringify(sentence)}: ${kind}, about ${about}`, () => {
      const claim = claimOfText(sentence);
      assert.ok(claim);
      assert.equal(claim.about, about);
      assert.equal(claim.kind, kind);
    });
  }
});

describe('how a newer statement relates to an older one', () => {
  const cases: Array<[string, string, 'replaces' | 'restates' | 'unrelated']> = [
    [
      'I prefer tabs for indentation in every project.',
      'I switched from tabs to spaces for indentation.',
      'replaces',
    ],
    [
      'I like dark mode in all my tools.',
      "I don't like dark mode anymore; I prefer light themes now.",
      'replaces',
    ],
    [
      'Never use semicolons in JavaScript.',
      'Actually, use semicolons in JavaScript from now on.',
      'replaces',
    ],
    ['I live in Lisbon.', 'I live in Porto.', 'replaces'],
    ["I'm on PostgreSQL 14.", 'I upgraded to PostgreSQL 16.', 'replaces'],
    ['I use 1Password.', 'I moved my passwords to Bitwarden.', 'replaces'],
    ['Our cloud provider is Azure.', 'Our cloud provider is AWS.', 'replaces'],
    ['Replies in English please.', 'Scratch that, reply in German.', 'replaces'],
    ['I live in Lisbon.', 'Still living in Lisbon.', 'restates'],
    ['I use tabs for indentation.', 'Tabs for indentation, as always.', 'restates'],
    ['I prefer tabs over spaces in Go code.', 'I switched from tabs to spaces in Go code.', 'replaces'],
    ['I prefer tabs for indentation.', 'I prefer dark themes in my terminal.', 'unrelated'],
    ['I use Python for data work.', 'I use Rust for CLIs.', 'unrelated'],
    ['I like Rust.', 'I like mechanical keyboards.', 'unrelated'],
    ["I'm learning Spanish.", "I'm now learning the guitar too.", 'unrelated'],
    [
      'I use Docker for local development.',
      'I switched from Docker Hub to GHCR for hosting images.',
      'unrelated',
    ],
    ['I live in Madrid.', 'I moved my blog to Hugo.', 'unrelated'],
    ['I prefer tabs for indentation.', 'My colleague switched to spaces.', 'unrelated'],
    [
      'Always write commit messages in the imperative mood.',
      'It pulls changed products from the catalog.',
      'unrelated',
    ],
  ];
  for (const [older, newer, relation] of cases) {
    test(`${JSON.stringify(older)} -> ${JSON.stringify(newer)}: ${relation}`, () => {
      const a = claimOfText(older);
      const b = claimOfText(newer);
      assert.ok(a && b);
      assert.equal(relateClaims(b, a).relation, relation);
    });
  }
});

describe('capture without an LLM keeps what the user said', () => {
  test('a mixed message keeps the statement and skips the question; assistant text is never a memory', () => {
    const { candidates, skipped } = extractVerbatim({
      messages: [
        { role: 'assistant', content: 'Which database are you on?' },
        { role: 'user', content: "I'm on PostgreSQL 15, how do I add a column without locking?" },
        { role: 'assistant', content: 'You probably use Jenkins and prefer writing pipelines in Groovy.' },
      ],
      observedAt: '2026-03-02T10:00:00.000Z',
    } as Parameters<typeof extractVerbatim>[0]);
    assert.deepEqual(
      candidates.map((item) => [item.text, item.kind, item.role]),
      [["I'm on PostgreSQL 15", 'user_fact', 'user']],
    );
    assert.equal(candidates[0]?.metadata?.['mneme:replyTo'], 'Which database are you on?');
    assert.deepEqual(
      skipped.map((item) => item.reason),
      ['assistant_message', 'question', 'assistant_message'],
    );
  });

  test('named speakers (a transcript of two people) are stored whole, questions included', () => {
    const { candidates } = extractVerbatim({
      messages: [
        {
          role: 'user',
          name: 'Caroline',
          content: 'Caroline: I went to a support group yesterday. Have you been?',
        },
        { role: 'user', name: 'Melanie', content: 'Melanie: Not yet! What was it like?' },
      ],
      observedAt: '2026-03-02T10:00:00.000Z',
    } as Parameters<typeof extractVerbatim>[0]);
    assert.deepEqual(
      candidates.map((item) => [item.speaker, item.text]),
      [
        ['Caroline', 'Caroline: I went to a support group yesterday. Have you been?'],
        ['Melanie', 'Melanie: Not yet! What was it like?'],
      ],
    );
  });
});
