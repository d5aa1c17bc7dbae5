import { spawn } from 'node:child_process';
import { createConsoleMount } from '../../console/mount.js';
import { createConsoleSessions } from '../../console/sessions.js';
import type { Memory } from '../../memory/memory.js';
import type { Principal } from '../../server/keys.js';
import { type Command, optionalString } from '../command.js';
import { runServer } from '../server-runner.js';
import { addMondayConversations, TUESDAY_CHANGE } from './demo.js';
import { SERVER_OPTIONS } from './serve.js';

/**
 * `mneme console [--port 0] [--app APP] [--no-open] [--no-demo] [--store URL]`: the memory console on this
 * machine. Serves the same app as `mneme serve` (API and console) on 127.0.0.1 only, prints a one-time login link
 * (and opens it in the default browser unless --no-open), so nobody types a key on localhost. The session sees
 * every app's memories, as the library does, or only APP's with --app. An empty store is first given the demo
 * users' memories (the conversations of `mneme demo`) unless --no-demo. With --json prints
 * `{ "url", "loginUrl", "port", "seeded" }` once listening.
 */
export const consoleCommand: Command = {
  name: 'console',
  summary: 'open the memory console in the browser, on this machine (one-time login link)',
  usage: 'console [--port 0] [--app APP] [--no-open] [--no-demo] [--store URL] [--keys PATH]',
  options: {
    ...SERVER_OPTIONS,
    app: { type: 'string' },
    'no-open': { type: 'boolean' },
    'no-demo': { type: 'boolean' },
  },
  async run(context) {
    const app = optionalString(context, 'app');
    const principal: Principal =
      app === undefined
        ? { keyId: 'console-session', admin: false, allApps: true }
        : { keyId: 'console-session', admin: false, appId: app };
    const sessions = createConsoleSessions({ principal });
    let seeded: string[] = [];
    return runServer(context, {
      defaultPort: 0,
      // Loopback only: the login link grants what the library can do with the store.
      host: '127.0.0.1',
      defaultLogLevel: 'warn',
      keys: (base) => sessions.keyStore(base),
      mounts: [createConsoleMount({ sessions })],
      async beforeListen(memory) {
        if (context.values['no-demo'] === true) return;
        if ((await memory.store.stats()).memories > 0) return;
        seeded = await seedDemoUsers(memory);
      },
      async listening(server) {
        const loginUrl = `${server.url}/console/#login=${sessions.issueLoginToken()}`;
        if (context.json) {
          context.out(JSON.stringify({ url: server.url, loginUrl, port: server.port, seeded }));
        } else {
          if (seeded.length > 0) {
            context.err(
              `mneme: the store was empty, so it now holds the demo users' memories (${seeded.join(', ')}); ` +
                'remove them with `mneme forget --user alice --all` (and bob)',
            );
          }
          context.err(`mneme: memory console on ${server.url}/console/`);
          context.err(`mneme: sign in with this one-time link (valid 10 minutes): ${loginUrl}`);
          context.err('mneme: Ctrl-C stops it');
        }
        if (context.values['no-open'] !== true && !context.json) openInBrowser(loginUrl);
      },
    });
  },
};

/** The demo's Monday conversations and Tuesday's change, as `mneme demo` writes them. */
async function seedDemoUsers(memory: Memory): Promise<string[]> {
  const users = Object.keys(await addMondayConversations(memory));
  await memory.add(TUESDAY_CHANGE, { userId: 'alice', runId: 'tuesday' });
  return users;
}

/** Best effort: the link is printed either way. */
function openInBrowser(url: string): void {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // No opener on this machine: the printed link is the way in.
  }
}
