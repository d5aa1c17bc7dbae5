/**
 * `mneme serve` for the official Mem0 clients: the real app and listener on a loopback port (in-memory store, test
 * embedder, a file key store with one key per app). The clients read MEM0_TELEMETRY when imported and would
 * otherwise post to their telemetry host, so it is switched off here, before any client is imported.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Memory } from '../../src/memory/memory.js';
import { createApp } from '../../src/server/app.js';
import { createFileKeyStore } from '../../src/server/keys.js';
import { type RunningServer, startServer } from '../../src/server/listen.js';
import { createMemoryFixture } from '../support/memory-fixture.js';

const silent = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface Mem0Server {
  server: RunningServer;
  memory: Memory;
  /** One key per app name given. */
  keys: Record<string, string>;
}

/** Starts the server with keys for `apps`. Close it with `server.close()`. */
export async function startMem0Server(apps: string[] = ['acme', 'globex']): Promise<Mem0Server> {
  process.env.MEM0_TELEMETRY = 'false';
  process.env.MEM0_DIR = mkdtempSync(join(tmpdir(), 'mneme-mem0-home-'));
  const { memory } = await createMemoryFixture();
  const keyStore = createFileKeyStore({
    path: join(mkdtempSync(join(tmpdir(), 'mneme-keys-')), 'keys.json'),
  });
  const keys: Record<string, string> = {};
  for (const appId of apps) keys[appId] = (await keyStore.create({ appId })).key;
  const server = await startServer({
    app: createApp({ memory, keys: keyStore, logger: silent }),
    memory,
    port: 0,
    logger: silent,
  });
  return { server, memory, keys };
}

/** A client call that must fail with the server's 501 `not_implemented` (the client's MemoryError, HTTP_501). */
export async function assertNotImplemented(call: () => Promise<unknown>, feature: RegExp): Promise<void> {
  await assert.rejects(call, (error: Error & { errorCode?: string }) => {
    const ok =
      error.errorCode === 'HTTP_501' && /not_implemented/.test(error.message) && feature.test(error.message);
    if (!ok) throw new Error(`expected a 501 naming ${feature}, got ${error.name}: ${error.message}`);
    return true;
  });
}
