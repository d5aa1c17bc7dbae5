/**
 * The SQL filter compiler on its own: fragments carry values only as parameters, and the PostgreSQL dialect
 * (used by the PostgreSQL store) agrees with `matchesFilter` on a real server. The SQLite dialect is checked
 * through the store in the conformance suite.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from '../../src/core/errors.js';
import type { FilterNode } from '../../src/core/filters.js';
import { matchesFilter, parseFilter } from '../../src/core/filters.js';
import type { MemoryRecord } from '../../src/core/types.js';
import { createPostgresDialect, SqlConditions, sqliteDialect } from '../../src/stores/sql-filter.js';
import { filterDataset, filterInputArbitrary, HAND_WRITTEN_FILTERS } from '../support/filter-cases.js';

describe('SqlConditions', () => {
  test('values and metadata keys become parameters, never SQL text', () => {
    const filter = parseFilter({
      and: [
        { 'metadata.k-1:x': "x' OR 1=1 --" },
        { speaker: { contains: '%_' } },
        { topic: { in: ['a', 'b'] } },
      ],
    });
    for (const dialect of [sqliteDialect, createPostgresDialect('m')]) {
      const conditions = new SqlConditions(dialect);
      const sql = conditions.filter(filter);
      assert.ok(!sql.includes("x' OR"), sql);
      assert.ok(!sql.includes('k-1:x'), 'the metadata key is bound, not spliced');
      assert.ok(!sql.includes('%_'), sql);
      assert.ok(conditions.params.includes("x' OR 1=1 --"));
      assert.ok(conditions.params.includes('%_'));
    }
  });

  test('scope and temporal conditions bind their values in placeholder order', () => {
    const conditions = new SqlConditions(createPostgresDialect('m'));
    const sql = `${conditions.scope({ userId: 'u', runId: 'r' })} AND ${conditions.temporal({
      now: '2026-01-02T00:00:00.000Z',
      asOf: '2026-01-01T00:00:00.000Z',
    })}`;
    assert.equal(
      sql,
      'm.user_id = $1 AND m.run_id = $2 AND (m.valid_to IS NULL OR m.valid_to > $3) AND ' +
        '(m.expires_at IS NULL OR m.expires_at > $4) AND COALESCE(m.valid_from, m.observed_at) <= $5',
    );
    assert.deepEqual(conditions.params, [
      'u',
      'r',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
    const lifted = new SqlConditions(sqliteDialect);
    assert.equal(lifted.temporal({ now: 'x', includeExpired: true, includeSuperseded: true }), '1');
  });
});

/**
 * The two documented places where PostgreSQL cannot match JavaScript exactly (see `createPostgresDialect`):
 * ordering against text containing U+E000 or above (code point vs UTF-16 order), and `contains` with a dotted
 * i (U+0307) or a Greek sigma (JavaScript's `toLowerCase` special-cases İ and final sigma; `lower()` does not).
 */
function knownPostgresDifference(input: unknown): boolean {
  const text = JSON.stringify(input);
  const ordering = /"(gt|gte|lt|lte)":(\[[^\]]*\]|"[^"]*")/g;
  for (const match of text.matchAll(ordering)) {
    if (
      [...JSON.parse(match[2] ?? '""').toString()].some(
        (character) => (character.codePointAt(0) ?? 0) >= 0xe000,
      )
    ) {
      return true;
    }
  }
  return /"contains":"[^"]*[\u0307σς]/.test(text);
}

const postgresUrl = process.env.MNEME_TEST_POSTGRES_URL;
const skip =
  postgresUrl === undefined
    ? 'MNEME_TEST_POSTGRES_URL not set: set it (e.g. postgres://postgres@127.0.0.1:5432/test) to check the PostgreSQL dialect'
    : undefined;

describe('PostgreSQL dialect agrees with matchesFilter', { skip }, () => {
  const schema = `mneme_filter_${randomUUID().replaceAll('-', '')}`;
  const dataset: MemoryRecord[] = filterDataset();
  type PgClient = {
    query: (sql: string, params?: unknown[]) => Promise<{ rows: Array<{ id: string }> }>;
    end: () => Promise<void>;
  };
  let client: PgClient | undefined;

  before(async () => {
    const { default: pg } = await import('pg');
    const connected = new pg.Client({ connectionString: postgresUrl });
    await connected.connect();
    client = connected as unknown as PgClient;
    await client.query(`CREATE SCHEMA ${schema}`);
    await client.query(`CREATE TABLE ${schema}.memories (
      id text PRIMARY KEY, user_id text, agent_id text, run_id text, app_id text, role text, speaker text,
      kind text NOT NULL, topic text, metadata jsonb NOT NULL, created_at text NOT NULL, updated_at text NOT NULL,
      observed_at text NOT NULL, valid_from text, valid_to text, expires_at text)`);
    for (const record of dataset) {
      await client.query(
        `INSERT INTO ${schema}.memories VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
        [
          record.id,
          record.userId ?? null,
          record.agentId ?? null,
          record.runId ?? null,
          record.appId ?? null,
          record.role ?? null,
          record.speaker ?? null,
          record.kind,
          record.topic ?? null,
          JSON.stringify(record.metadata),
          record.createdAt,
          record.updatedAt,
          record.observedAt,
          record.validFrom ?? null,
          record.validTo ?? null,
          record.expiresAt ?? null,
        ],
      );
    }
  });

  after(async () => {
    await client?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client?.end();
  });

  async function check(input: unknown): Promise<void> {
    if (knownPostgresDifference(input)) return;
    let filter: FilterNode | undefined;
    try {
      filter = parseFilter(input);
    } catch (error) {
      if (error instanceof ValidationError) return;
      throw error;
    }
    const conditions = new SqlConditions(createPostgresDialect('m'));
    const sql = `SELECT id FROM ${schema}.memories m WHERE ${conditions.filter(filter)}`;
    const result = await client?.query(sql, conditions.params);
    const actual = (result?.rows ?? []).map((row) => row.id).sort();
    const expected = dataset
      .filter((record) => matchesFilter(record, filter))
      .map((record) => record.id)
      .sort();
    assert.deepEqual(actual, expected, `filter ${JSON.stringify(input)}: ${sql}`);
  }

  test('hand-written filters', async () => {
    for (const input of HAND_WRITTEN_FILTERS) await check(input);
  });

  test('the documented differences are real (so the exclusions above stay honest)', async () => {
    assert.equal(knownPostgresDifference({ a: { lt: '\ue000' } }), true);
    assert.equal(knownPostgresDifference({ a: { contains: 'i\u0307s' } }), true);
    assert.equal(knownPostgresDifference({ a: { lt: 'foo' } }), false);
    const sql = createPostgresDialect('').compareText('$1::text', '<', '$2::text');
    const result = await client?.query(`SELECT (${sql}) AS id`, ['😀', '\ue000']);
    assert.equal(String(result?.rows[0]?.id), 'false', 'PostgreSQL orders U+1F600 after U+E000');
    assert.equal('😀' < '\ue000', true, 'JavaScript orders it before');
  });

  test('random filters (property test)', async () => {
    await fc.assert(fc.asyncProperty(filterInputArbitrary(), check), { numRuns: 300 });
  });
});
