import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactSecrets, stripPrivate } from '../../src/ingest/redact.js';
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
  [
    '-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0pgpsecret\n-----END PGP PRIVATE KEY BLOCK-----',
    'lQOYBF0pgpsecret',
    'private_key',
  ],
  ['export DB_PASSWORD=hunter2secret', 'hunter2secret', 'secret_assignment'],
  ['GITHUB_TOKEN=abc123def456ghi in CI', 'abc123def456ghi', 'secret_assignment'],
  ['psql with PGPASSWORD=pgsecret99', 'pgsecret99', 'secret_assignment'],
  ['{"password": "jsonsecret42", "user": "bob"}', 'jsonsecret42', 'secret_assignment'],
  ["config {'api_key': 'yamlish-key-77'}", 'yamlish-key-77', 'secret_assignment'],
  ['x-api-key: hdr-key-123456', 'hdr-key-123456', 'secret_assignment'],
  ['secret key: abc123XYZ', 'abc123XYZ', 'secret_assignment'],
  [
    'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=azUREkey123456789abcdef==;EndpointSuffix=core.windows.net',
    'azUREkey123456789abcdef',
    'secret_assignment',
  ],
  ['the password for my gmail is Tr0ub4dor!', 'Tr0ub4dor!', 'secret_statement'],
  ['Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==', 'dXNlcjpwYXNzd29yZDEyMw', 'basic_auth'],
  ['npm npm_abcdefghijklmnopqrstuvwxyz0123456789', 'npm_abcdefghijklmnopqrstuvwxyz0123456789', 'npm_token'],
  ['hf hf_abcdefghijklmnopqrstuvwxyzABCDEFGH', 'hf_abcdefghijklmnopqrstuvwxyzABCDEFGH', 'huggingface_token'],
  [
    'SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
    'sendgrid_key',
  ],
  [`do dop_v1_${'0a'.repeat(32)}`, '0a'.repeat(32), 'digitalocean_token'],
  [
    'post to https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    'XXXXXXXXXXXXXXXXXXXXXXXX',
    'slack_webhook',
  ],
  [
    'oauth ya29.a0AfH6SMBx-abcdefghijklmnopqrstuvwxyz',
    'a0AfH6SMBx-abcdefghijklmnopqrstuvwxyz',
    'google_oauth_token',
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
    'the token bucket algorithm',
    'my secret is that I love jazz',
    'password reset link expired',
    'set max_tokens to 100 tokens',
    'Basic Understanding of Databases',
    'token: the word means a symbol',
    'git commit -m "fix password field"',
  ]) {
    assert.deepEqual(redactSecrets(text), { text, found: [] });
  }
});

test('hostile input cannot make redaction slow (every quantifier is bounded)', () => {
  // Before the bounds, 20,000 characters of "a-a-a-..." took ~0.7 s (quadratic), so 40,000 would take ~2.8 s; with
  // them 40,000 take 30-150 ms even on a loaded 2-core machine. The 1 s line sits far from both, so machine load
  // does not fail the test and a quadratic pattern cannot pass it (the fastest of 3 rounds counts).
  for (const unit of ['a-', 'a.', 'a:', 'sk-', 'ya29.', 'token="', 'password for ', 'a://a:a']) {
    const text = unit.repeat(Math.ceil(40_000 / unit.length)).slice(0, 40_000);
    let fastest = Number.POSITIVE_INFINITY;
    for (let round = 0; round < 3; round += 1) {
      const started = performance.now();
      redactSecrets(text);
      fastest = Math.min(fastest, performance.now() - started);
    }
    assert.ok(fastest < 1_000, `${JSON.stringify(unit)} x 40,000 characters took ${fastest.toFixed(0)} ms`);
  }
});

test('add never stores a secret, in memories, history or the queue; custom patterns apply', async () => {
  const { memory } = await createMemoryFixture({
    ingestion: { background: false },
    redaction: { patterns: [{ kind: 'employee_id', pattern: /\bEMP-\d{6}\b/g }] },
  });
  const added = await memory.add(
    'I work on the billing team. My password is hunter2-secret and my id is EMP-123456',
    {
      userId: 'alice',
    },
  );
  // The sentence that carried the secrets is not kept (reason `secret`), and even its skipped text is redacted.
  assert.deepEqual(
    added.skipped.map((item) => [item.reason, item.text]),
    [['secret', 'My password is [REDACTED:secret_statement] and my id is [REDACTED:employee_id]']],
  );
  assert.deepEqual(
    added.results.map((item) => item.memory),
    ['I work on the billing team.'],
  );
  const listed = JSON.stringify(await memory.list({ userId: 'alice', limit: 10 }));
  assert.equal(listed.includes('hunter2') || listed.includes('EMP-123456'), false);
  const history = JSON.stringify(await memory.history(added.results[0]?.id ?? ''));
  assert.equal(history.includes('hunter2'), false);
  await memory.enqueue('token=abcdef123456 for the CI', { userId: 'alice' });
  const [item] = await memory.store.claimQueue({ limit: 1, leaseMs: 1000, now: '2030-01-01T00:00:00.000Z' });
  assert.ok(item, 'the queued item is there');
  assert.equal(JSON.stringify(item.payload).includes('abcdef123456'), false);
  await memory.close();
});

test('<private> spans are removed: closed, several, nested, unclosed, stray, any case, with attributes', () => {
  const cases: Array<[string, string]> = [
    ['I use tabs <private>and my salary is 90k</private> in every repo', 'I use tabs in every repo'],
    ['<private>all of it</private>', ''],
    ['a<private>x</private>b', 'a b'],
    ['I like jazz <private>x</private>.', 'I like jazz.'],
    ['one <private>x</private> two <private>y</private> three', 'one two three'],
    ['keep <private>a <private>b</private> c</private> this', 'keep this'],
    ['keep <private>a <private>b</private> still hidden', 'keep'],
    ['I deploy on Fridays. <private>The VPN code is 4411', 'I deploy on Fridays.'],
    ['before </private> after', 'before after'],
    ['<PRIVATE>upper</Private> shown', 'shown'],
    ['<private reason="health">diagnosis</private>fine', 'fine'],
    ['< private >spaced</ private > out', 'out'],
    ['line one\n<private>hidden\n</private>line two', 'line one\nline two'],
    ['a <privateer> is not a tag', 'a <privateer> is not a tag'],
    ['no tags at all', 'no tags at all'],
  ];
  for (const [input, expected] of cases) {
    assert.equal(stripPrivate(input).trim(), expected, JSON.stringify(input));
  }
});

test('<private> stripping stays linear on hostile input', () => {
  for (const text of [
    '<private>'.repeat(5000),
    '</private>'.repeat(5000),
    `<private ${'a'.repeat(50_000)}`,
  ]) {
    const started = performance.now();
    stripPrivate(text);
    assert.ok(performance.now() - started < 150, `${text.slice(0, 20)}... was slow`);
  }
});

test('text inside <private> is never stored by add, enqueue, update or import, even with redaction off', async () => {
  for (const redaction of [undefined, false] as const) {
    const { memory } = await createMemoryFixture({
      ingestion: { background: false },
      ...(redaction === false ? { redaction } : {}),
    });
    const added = await memory.add(
      [
        { role: 'user', content: 'I prefer tabs. <private>My therapist is Dr. Quill.</private>' },
        { role: 'user', content: '<private>My bank PIN is 8812' },
      ],
      { userId: 'alice', infer: false },
    );
    assert.deepEqual(
      added.results.map((item) => item.memory),
      ['I prefer tabs.'],
    );
    await memory.enqueue('I use Vim <private>at the clinic on Tuesdays</private> daily', { userId: 'alice' });
    const [item] = await memory.store.claimQueue({
      limit: 1,
      leaseMs: 1000,
      now: '2030-01-01T00:00:00.000Z',
    });
    assert.ok(item);
    assert.equal(JSON.stringify(item.payload).includes('clinic'), false, JSON.stringify(item.payload));
    const id = added.results[0]?.id ?? '';
    await memory.update(id, { text: 'I prefer spaces <private>since the Quill visit</private>' });
    await assert.rejects(memory.update(id, { text: '<private>only this</private>' }), /text.*private/);
    const exported = { type: 'memory' as const, history: [] };
    const record = (memoryText: string, recordId: string) => ({
      ...exported,
      record: {
        id: recordId,
        memory: memoryText,
        userId: 'bob',
        metadata: {},
        createdAt: '2026-01-01T00:00:00.000Z',
        updatedAt: '2026-01-01T00:00:00.000Z',
        observedAt: '2026-01-01T00:00:00.000Z',
      },
    });
    const imported = await memory.importMemories([
      record('Bob likes tea <private>and gin</private>', '7d1c2a52-8f0e-4c1b-9a9e-000000000001'),
      record('<private>Bob owes money</private>', '7d1c2a52-8f0e-4c1b-9a9e-000000000002'),
    ] as never);
    assert.deepEqual(imported, { imported: 1, skipped: 1 });
    const everything = JSON.stringify([
      await memory.list({ userId: 'alice', limit: 50 }),
      await memory.list({ userId: 'bob', limit: 50 }),
      await memory.history(id),
    ]);
    for (const secret of ['Quill', '8812', 'PIN', 'gin', 'owes']) {
      assert.equal(everything.includes(secret), false, `${secret} was stored: ${everything}`);
    }
    assert.match(everything, /I prefer spaces/);
    assert.match(everything, /Bob likes tea/);
    await memory.close();
  }
});
