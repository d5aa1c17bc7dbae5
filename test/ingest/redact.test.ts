import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSecrets } from '../../src/ingest/redact.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

const SECRETS: Array<[string, string, string]> = [
  [
    'my key is sk-ant-api03-abcdefghijklmnopqrstuvwx',
    'sk-ant-api03-abcdefghijklmnopqrstuvwx',
    'anthropic_key',
  ],
  [
    'OPENAI sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ123456',
    'sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ123456',
    'openai_key',
  ],
  ['aws AKIAIOSFODNN7EXAMPLE here', 'AKIAIOSFODNN7EXAMPLE', 'aws_access_key'],
  [
    'token ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    'github_token',
  ],
  ['slack xoxb-1234567890-abcdefghij', 'xoxb-1234567890-abcdefghij', 'slack_token'],
  ['stripe sk_live_abcdefghijklmnop1234', 'sk_live_abcdefghijklmnop1234', 'stripe_key'],
  ['Authorization: Bearer abcdef0123456789abcdef.xyz', 'abcdef0123456789abcdef.xyz', 'bearer_token'],
  ['db at postgres://admin:hunter2pass@db.internal:5432/app', 'hunter2pass', 'url_credentials'],
  ['set password=CorrectHorse42 in the config', 'CorrectHorse42', 'secret_assignment'],
  ['api_key: "zz-9f8e7d6c5b4a"', 'zz-9f8e7d6c5b4a', 'secret_assignment'],
  ['My password is tr0ub4dor&3, remember it', 'tr0ub4dor&3', 'secret_statement'],
  [
    'jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N',
    'eyJhbGciOiJIUzI1NiJ9',
    'jwt',
  ],
  [
    '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
    'MIIEowIBAAKCAQEA',
    'private_key',
  ],
];

test('every documented secret kind is redacted and reported', () => {
  for (const [text, secret, kind] of SECRETS) {
    const result = redactSecrets(text);
    assert.equal(result.text.includes(secret), false, `${kind} leaked: ${result.text}`);
    assert.ok(result.found.includes(kind), `${kind} not reported for ${text}: ${result.found.join(',')}`);
    assert.match(result.text, new RegExp(`\\[REDACTED:${kind}\\]`));
  }
});

test('ordinary text is untouched', () => {
  for (const text of [
    'I prefer tabs over spaces',
    'The password policy requires 12 characters',
    'skiing in Davos',
    'Use Bearer auth',
  ]) {
    assert.deepEqual(redactSecrets(text), { text, found: [] });
  }
});

test('add never stores a secret, in memories, history or the queue; custom patterns apply', async () => {
  const { memory } = await createMemoryFixture({
    ingestion: { background: false },
    redaction: { patterns: [{ kind: 'employee_id', pattern: /\bEMP-\d{6}\b/g }] },
  });
  const { results } = await memory.add('My password is hunter2-secret and my id is EMP-123456', {
    userId: 'alice',
  });
  const stored = await memory.get(results[0]?.id ?? '');
  assert.equal(
    stored?.memory,
    'My password is [REDACTED:secret_statement] and my id is [REDACTED:employee_id]',
  );
  const history = JSON.stringify(await memory.history(results[0]?.id ?? ''));
  assert.equal(history.includes('hunter2'), false);
  await memory.enqueue('token=abcdef123456 for the CI', { userId: 'alice' });
  const [item] = await memory.store.claimQueue({ limit: 1, leaseMs: 1000, now: '2030-01-01T00:00:00.000Z' });
  assert.ok(item, 'the queued item is there');
  assert.equal(JSON.stringify(item.payload).includes('abcdef123456'), false);
  await memory.close();
});
