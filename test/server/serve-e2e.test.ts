/**
 * `mneme serve` as users run it: the built bin, the real SQLite store and the default offline embedder, a key
 * made with `mneme keys create`, the official mem0ai client, and a graceful SIGTERM that drains an in-flight
 * request. Requires `npm run build` (`npm test` builds first).
 */
import assert from 'node:assert/strict';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runMneme } from '../support/cli.js';
import { serve, waitFor } from '../support/serve.js';

describe('mneme serve (spawned, SQLite, default embedder, official Mem0 client)', () => {
  const children: ChildProcessWithoutNullStreams[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  test('serves the Mem0 client, honours revocation, and drains an in-flight request on SIGTERM', async () => {
    process.env.MEM0_TELEMETRY = 'false';
    const { MemoryClient } = await import('mem0ai');
    const home = mkdtempSync(join(tmpdir(), 'mneme-serve-'));
    const env = { MNEME_HOME: home, MEM0_DIR: home };
    const store = `sqlite://${join(home, 'memories.db')}`;

    const created = await runMneme(['keys', 'create', '--app', 'acme', '--json'], env);
    assert.equal(created.code, 0, created.stderr);
    const { key, id } = JSON.parse(created.stdout) as { key: string; id: string };
    const other = JSON.parse(
      (await runMneme(['keys', 'create', '--app', 'globex', '--json'], env)).stdout,
    ) as {
      key: string;
      id: string;
    };

    const server = await serve(['--store', store], env);
    children.push(server.child);
    const health = await fetch(`${server.url}/health`);
    assert.deepEqual(await health.json(), { status: 'ok', store: 'sqlite' });

    const client = new MemoryClient({ apiKey: key, host: server.url });
    const added = (await client.add(
      [{ role: 'user', content: 'I prefer tabs over spaces in every language' }],
      {
        userId: 'alice',
        infer: false,
      },
    )) as unknown as { results: Array<{ id: string }> };
    const memoryId = added.results[0]?.id ?? '';
    const found = await client.search('which indentation do I like?', { filters: { user_id: 'alice' } });
    assert.equal(found.results[0]?.id, memoryId);

    // A key revoked by another process stops working on the next request.
    const revoke = await runMneme(['keys', 'revoke', other.id], env);
    assert.equal(revoke.code, 0, revoke.stderr);
    const denied = await fetch(`${server.url}/v1/ping/`, {
      headers: { authorization: `Token ${other.key}` },
    });
    assert.equal(denied.status, 401);

    // An add is in flight when SIGTERM arrives (its body is still arriving): it must complete and be durable,
    // while new connections are refused.
    const payload = JSON.stringify({
      messages: Array.from({ length: 12 }, (_, index) => ({
        role: 'user',
        content: `Project note ${index}: the ${['billing', 'search', 'auth'][index % 3]} service owns ticket ${1000 + index}`,
      })),
      user_id: 'bob',
      infer: false,
    });
    const slow = request(`${server.url}/v3/memories/add/`, {
      method: 'POST',
      headers: {
        authorization: `Token ${key}`,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
      },
    });
    const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
      slow.on('error', reject);
      slow.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      });
    });
    slow.write(payload.slice(0, 40));
    await new Promise((resolve) => setTimeout(resolve, 300));
    server.child.kill('SIGTERM');
    await waitFor(() => server.stderr().includes('SIGTERM received'), 10_000);
    await assert.rejects(fetch(`${server.url}/health`), 'no new connections while draining');
    slow.end(payload.slice(40));
    const drained = await answered;
    assert.equal(drained.status, 200, drained.text);
    assert.equal((JSON.parse(drained.text) as { results: unknown[] }).results.length, 12);
    assert.equal(await server.exited, 0, server.stderr());

    const log = server.stderr();
    const signalAt = log.indexOf('SIGTERM received');
    const requestLine = log
      .split('\n')
      .find((line) => line.includes('"path":"/v3/memories/add/"') && log.indexOf(line) > signalAt);
    assert.ok(requestLine, `the add finished after the signal: it was drained, not cut\n${log}`);
    assert.match(requestLine, /"status":200/);
    assert.match(log, new RegExp(`"keyId":"${id}"`), 'request logs name the key id');

    // Everything is in the SQLite file for the next process.
    const listed = await runMneme(
      ['list', '--user', 'bob', '--app', 'acme', '--limit', '100', '--store', store, '--json'],
      env,
    );
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal((JSON.parse(listed.stdout) as { results: unknown[] }).results.length, 12);
  });
});
