import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadLocomo, normaliseEvidence, parseSessionDate } from '../../bench/locomo/data.js';
import {
  aggregate,
  ndcgAt,
  scoreQuestion,
  sessionRecallAnyAt,
  turnRecallAt,
  turnSlots,
} from '../../bench/locomo/metrics.js';
import { percentile, summarise } from '../../bench/support/stats.js';

const close = (actual: number, expected: number) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `expected ${expected}, got ${actual}`);

test('turn recall@k counts the evidence turns among the first k turns', () => {
  const units = [['D1:1'], ['D1:2'], ['D2:5'], ['D3:1'], ['D1:9']];
  close(turnRecallAt(units, ['D1:2', 'D1:9'], 2), 0.5);
  close(turnRecallAt(units, ['D1:2', 'D1:9'], 5), 1);
  close(turnRecallAt(units, ['D7:7'], 5), 0);
  close(turnRecallAt([], ['D1:1'], 5), 0);
});

test('a unit covering several turns counts toward k once per turn it covers', () => {
  // One chunk of three turns, then a single turn: at k = 3 only the chunk fits.
  const units = [['D1:1', 'D1:2', 'D1:3'], ['D1:4']];
  assert.deepEqual(turnSlots(units, 3), ['D1:1', 'D1:2', 'D1:3']);
  close(turnRecallAt(units, ['D1:4'], 3), 0);
  close(turnRecallAt(units, ['D1:4'], 4), 1);
  // A chunk straddling the cut contributes only the turns before it.
  close(turnRecallAt([['D1:1', 'D1:2', 'D1:3']], ['D1:3'], 2), 0);
});

test('evidence listed twice is one evidence turn', () => {
  close(turnRecallAt([['D1:1']], ['D1:1', 'D1:1'], 5), 1);
});

test('session recall_any@5 ranks sessions by their first appearance', () => {
  const units = [['D1:1'], ['D1:2'], ['D2:1'], ['D3:1'], ['D4:1'], ['D5:1'], ['D6:1']];
  // Five distinct sessions are D1..D5 even though seven turns precede D6.
  assert.equal(sessionRecallAnyAt(units, ['D5:9'], 5), 1);
  assert.equal(sessionRecallAnyAt(units, ['D6:9'], 5), 0);
  assert.equal(sessionRecallAnyAt(units, ['D6:9', 'D2:3'], 5), 1);
  assert.equal(sessionRecallAnyAt([['D6:1']], ['D6:2'], 5), 1);
});

test('NDCG@10 uses binary gains against the ideal order', () => {
  close(ndcgAt([['D1:1'], ['D1:2']], ['D1:1'], 10), 1);
  // Relevant at rank 2 of 1 evidence: (1/log2 3) / 1.
  close(ndcgAt([['D1:9'], ['D1:1']], ['D1:1'], 10), 1 / Math.log2(3));
  // Two evidence turns, found at ranks 1 and 3.
  const expected = (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3));
  close(ndcgAt([['D1:1'], ['D1:5'], ['D1:2']], ['D1:1', 'D1:2'], 10), expected);
  // A repeated relevant turn gains only once.
  close(ndcgAt([['D1:1'], ['D1:1']], ['D1:1', 'D1:2'], 10), 1 / (1 + 1 / Math.log2(3)));
  // Beyond rank 10 nothing counts.
  const far = Array.from({ length: 10 }, (_, index) => [`D9:${index}`]).concat([['D1:1']]);
  close(ndcgAt(far, ['D1:1'], 10), 0);
});

test('a question without evidence cannot be scored', () => {
  assert.throws(() => scoreQuestion([['D1:1']], []), RangeError);
});

test('aggregate averages per category and keeps category 5 out of 1-4', () => {
  const perfect = scoreQuestion([['D1:1']], ['D1:1']);
  const miss = scoreQuestion([['D2:1']], ['D1:1']);
  const report = aggregate([
    { category: 1, values: perfect },
    { category: 1, values: miss },
    { category: 4, values: perfect },
    { category: 5, values: miss },
  ]);
  close(report.categories['1']?.['turn_recall@5'] ?? -1, 0.5);
  close(report.categories['4']?.['turn_recall@5'] ?? -1, 1);
  close(report.categories['5']?.['turn_recall@5'] ?? -1, 0);
  // (0.5 + 0.5 + 1) / 3 questions, not the mean of category means.
  close(report.cats1_4['turn_recall@5'], 0.6667);
  assert.deepEqual(report.counts, { '1': 2, '4': 1, '5': 1 });
});

test('LoCoMo session dates parse as UTC', () => {
  assert.equal(parseSessionDate('1:56 pm on 8 May, 2023'), '2023-05-08T13:56:00.000Z');
  assert.equal(parseSessionDate('12:09 am on 13 September, 2023'), '2023-09-13T00:09:00.000Z');
  assert.equal(parseSessionDate('12:30 pm on 1 January, 2022'), '2022-01-01T12:30:00.000Z');
  assert.throws(() => parseSessionDate('yesterday'));
});

test('malformed evidence ids are split and repaired', () => {
  assert.deepEqual(normaliseEvidence(['D8:6; D9:17', 'D:11:26', 'D1:3', 'D1:3']), [
    'D8:6',
    'D9:17',
    'D11:26',
    'D1:3',
  ]);
  assert.deepEqual(normaliseEvidence(undefined), []);
});

test('the loader applies audit corrections and drops evidence naming no turn', () => {
  const directory = mkdtempSync(join(tmpdir(), 'mneme-locomo-test-'));
  try {
    const data = [
      {
        sample_id: 'conv-x',
        conversation: {
          speaker_a: 'Ann',
          speaker_b: 'Bo',
          session_1_date_time: '1:00 pm on 2 March, 2023',
          session_1: [
            { speaker: 'Ann', dia_id: 'D1:1', text: 'I adopted a cat.' },
            { speaker: 'Bo', dia_id: 'D1:2', text: 'Look!', blip_caption: 'a photo of a dog' },
          ],
        },
        qa: [
          { question: 'What did Ann adopt?', answer: 'a cat', evidence: ['D1:2'], category: 4 },
          { question: 'Nothing?', answer: 'x', evidence: ['D9:9'], category: 1 },
          { question: 'Adversarial', evidence: ['D1:1'], category: 5 },
        ],
      },
    ];
    const audit = [
      { question_id: 'locomo_0_qa0', question: 'What did Ann adopt?', correct_evidence: ['D1:1'] },
      { question_id: 'locomo_0_qa7', question: 'Missing', correct_evidence: ['D1:1'] },
    ];
    writeFileSync(join(directory, 'data.json'), JSON.stringify(data));
    writeFileSync(join(directory, 'audit.json'), JSON.stringify(audit));
    const { conversations, report } = loadLocomo({
      dataPath: join(directory, 'data.json'),
      auditPath: join(directory, 'audit.json'),
    });
    const [conversation] = conversations;
    assert.equal(conversation?.turns[1]?.memoryText, 'Bo: Look! [image: a photo of a dog]');
    assert.equal(conversation?.turns[0]?.observedAt, '2023-03-02T13:00:00.000Z');
    assert.deepEqual(conversation?.questions[0]?.evidence, ['D1:1']);
    assert.equal(conversation?.questions[0]?.corrected, true);
    assert.equal(conversation?.questions.length, 2);
    assert.equal(report.questionsWithoutEvidence, 1);
    assert.deepEqual(report.unknownEvidenceIds, ['conv-x/D9:9']);
    assert.equal(report.auditCorrections, 1);
    assert.deepEqual(report.auditUnmatched, ['locomo_0_qa7']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('percentiles interpolate between ranks', () => {
  close(percentile([1, 2, 3, 4], 50), 2.5);
  close(percentile([5], 95), 5);
  close(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95), 9.55);
  assert.deepEqual(summarise([3, 1, 2]), { p50: 2, p95: 2.9, p99: 2.98 });
  assert.throws(() => percentile([], 50), RangeError);
});
