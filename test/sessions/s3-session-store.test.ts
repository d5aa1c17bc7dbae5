/**
 * The S3 SessionStore runs the shared conformance suite against a real S3-compatible server (s3rver on a
 * random loopback port, started here), through the real `@aws-sdk/client-s3`; each test under its own prefix,
 * and the listing sequences also under the prefixes `sess/` and `sess` spelled as users write them.
 */
import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { createSessionStore } from '../../src/sessions/index.js';
import { sessionStoreSuite } from '../conformance/session-store-suite.js';
import type { LocalS3 } from '../support/s3-server.js';
import { startLocalS3 } from '../support/s3-server.js';

let s3: LocalS3 | undefined;

before(async () => {
  s3 = await startLocalS3();
  // The store reads credentials from the AWS chain, as in production.
  Object.assign(process.env, s3.env);
});

after(async () => {
  await s3?.close();
});

sessionStoreSuite({
  name: 's3',
  capabilities: { multiProcess: true },
  makeStore: async () => {
    const server = s3;
    if (server === undefined) throw new Error('the local S3 server did not start');
    const url = server.url(`tests/${randomUUID()}`);
    return {
      store: createSessionStore(url),
      reopen: () => createSessionStore(url),
      url,
      env: server.env,
      variants: ['sess/', 'sess', '/sess//', 'deep//sess/', `tests/${randomUUID()}/`].map((prefix) => ({
        label: `prefix ${JSON.stringify(prefix)}`,
        open: () => createSessionStore(server.url(prefix)),
      })),
    };
  },
});
