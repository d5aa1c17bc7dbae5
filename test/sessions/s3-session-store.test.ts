/**
 * The S3 SessionStore runs the shared conformance suite against a real S3-compatible server (s3rver on a
 * random loopback port, started here), through the real `@aws-sdk/client-s3`; each test under its own prefix,
 * and the listing sequences also under the prefixes `sess/` and `sess` spelled as users write them. Compaction's
 * own checks (request counts, concurrent compactions, crashes) are in s3-compaction.test.ts.
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

/**
 * The suite at the default threshold (no compaction in its short transcripts), and again compacting every
 * transcript once it holds two parts: every check, the two writer processes included, then runs across
 * compactions (the processes compact while they append).
 */
for (const compactAfter of [undefined, 2]) {
  const query = compactAfter === undefined ? '' : `&compactAfter=${compactAfter}`;
  sessionStoreSuite({
    name: 's3',
    ...(compactAfter === undefined ? {} : { label: `compactAfter=${compactAfter}` }),
    capabilities: { multiProcess: true },
    makeStore: async () => {
      const server = s3;
      if (server === undefined) throw new Error('the local S3 server did not start');
      const url = `${server.url(`tests/${randomUUID()}`)}${query}`;
      return {
        store: createSessionStore(url),
        reopen: () => createSessionStore(url),
        url,
        env: server.env,
        variants: ['sess/', 'sess', '/sess//', 'deep//sess/', `tests/${randomUUID()}/`].map((prefix) => ({
          label: `prefix ${JSON.stringify(prefix)}`,
          open: () => createSessionStore(`${server.url(prefix)}${query}`),
        })),
      };
    },
  });
}
