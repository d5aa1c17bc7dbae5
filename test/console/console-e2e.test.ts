/**
 * The memory console end to end, as people use it: `mneme console` (the built bin, a real SQLite file, the
 * default offline embedder, the demo users seeded into the empty store) driven by a real headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core; nothing downloads a browser). Covers the one-time login
 * link, finding a user, search as the agent (explain), edit, the edit in history, delete, erasing a user, that a
 * second app's key sees none of the first app's users, and that stored markup renders as text.
 *
 * Skipped, with the reason printed, only when /usr/bin/chromium is absent (`.ci/run` installs it). With
 * MNEME_CONSOLE_SCREENSHOTS=DIR the profile, search-explain and history views are saved there as PNGs.
 * Requires `npm run build` (`npm test` builds first).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { runMneme } from '../support/cli.js';
import { type Served, serve, waitFor } from '../support/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium)`;
if (skip) console.log(`# skipping the console browser tests: ${skip}`);
const SCREENSHOTS = process.env.MNEME_CONSOLE_SCREENSHOTS;

const XSS_TEXTS = ['<script>alert(1)</script>', '<img src=x onerror="alert(2)">'];

describe('mneme console in a real browser', { skip }, () => {
  let browser: Browser;
  let server: Served;
  let env: Record<string, string>;
  const keys: Record<string, string> = {};

  before(async () => {
    const home = mkdtempSync(join(tmpdir(), 'mneme-console-'));
    env = { MNEME_HOME: home };
    for (const app of ['acme', 'globex']) {
      const created = await runMneme(['keys', 'create', '--app', app, '--json'], env);
      assert.equal(created.code, 0, created.stderr);
      keys[app] = (JSON.parse(created.stdout) as { key: string }).key;
    }
    // The embedded default: no --store, so the store is <MNEME_HOME>/mneme.db, empty, and gets the demo users.
    server = await serve(['--no-open'], env, 'console');
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    await browser?.close();
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  const api = async <T>(key: string, method: string, path: string, body?: unknown) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: response.status, body: (await response.json()) as T };
  };

  const newPage = async (): Promise<{ page: Page; dialogs: string[]; errors: string[] }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const dialogs: string[] = [];
    const errors: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    page.on('pageerror', (error) => errors.push(error.message));
    return { page, dialogs, errors };
  };

  const shoot = async (page: Page, name: string) => {
    if (!SCREENSHOTS) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  test('the one-time link signs in; the demo users are there; find, search, edit, history, delete, erase', async () => {
    const info = server.info as { loginUrl: string; seeded: string[] };
    assert.deepEqual(info.seeded, ['alice', 'bob'], 'the empty embedded store got the demo users');
    const { page, errors } = await newPage();
    await page.goto(info.loginUrl);
    await page.getByRole('button', { name: /alice/ }).waitFor();
    assert.ok(!page.url().includes('login='), 'the token leaves the address bar');

    // The link works once.
    const second = await newPage();
    await second.page.goto(info.loginUrl);
    await second.page.getByRole('alert').waitFor();
    assert.match((await second.page.getByRole('alert').textContent()) ?? '', /used, expired or unknown/);
    await second.page.context().close();

    // Find a user.
    await page.getByLabel('Find a user').fill('ali');
    await waitFor(async () => (await page.locator('#user-list li').count()) === 1, 10_000, 'one user');
    await page.getByRole('button', { name: /alice/ }).click();

    // Profile: Tuesday's change is current, the Python preference it superseded is not.
    const profile = page.locator('#profile-items');
    await profile.waitFor();
    const profileText = (await profile.textContent()) ?? '';
    assert.match(profileText, /switched from Python to TypeScript/);
    assert.match(profileText, /function-level docstrings/);
    assert.doesNotMatch(profileText, /I prefer Python for backend services/);
    await shoot(page, 'console-profile');

    // Search as the agent: the exact block, and per-signal scores of every candidate.
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByLabel(/^Prompt/).fill('How should I document the payments module?');
    await page.getByRole('button', { name: 'Search as the agent' }).click();
    const block = page.locator('#injected-block');
    await block.waitFor();
    const blockText = (await block.textContent()) ?? '';
    assert.match(blockText, /docstrings/);
    const explained = await api<{ text: string }>(keys.acme ?? '', 'POST', '/api/context/explain', {
      userId: 'alice',
      prompt: 'x',
    });
    assert.equal(explained.status, 200);
    assert.equal(
      explained.body.text,
      '',
      "an app key does not reach the demo users' memories, which have no app",
    );
    const rows = page.locator('#candidates tbody tr');
    assert.ok((await rows.count()) >= 2, 'candidates are listed');
    const headers = await page.locator('#candidates thead th').allInnerTexts();
    assert.equal(
      headers.join(' | '),
      'Memory | Dense | Keyword | Recency | RRF | Session | Speaker | Fused | In the block',
    );
    assert.match(
      (await page.locator('#candidates').textContent()) ?? '',
      /no: /,
      'cut candidates are shown with a reason',
    );
    await shoot(page, 'console-search-explain');

    // Edit a memory, then see the edit in its history.
    await page.getByRole('tab', { name: 'Memories' }).click();
    const item = page.locator('li.memory', { hasText: 'function-level docstrings' });
    await item.waitFor();
    const memoryId = (await item.getAttribute('data-id')) ?? '';
    await item.getByRole('button', { name: 'Edit' }).click();
    await item.getByLabel('Memory text').fill('I prefer Google-style docstrings and no inline comments.');
    await item.getByRole('button', { name: 'Save' }).click();
    const edited = page.locator(`li.memory[data-id="${memoryId}"]`);
    await edited.locator('.text', { hasText: 'Google-style docstrings' }).waitFor();
    await edited.getByRole('button', { name: 'History' }).click();
    const history = edited.getByRole('region', { name: 'History' });
    await history.waitFor();
    const historyText = (await history.textContent()) ?? '';
    assert.match(historyText, /UPDATE/);
    assert.match(historyText, /before: .*function-level docstrings/);
    assert.match(historyText, /after: .*Google-style docstrings/);
    await shoot(page, 'console-history');

    // Delete it (erased: the REST API no longer knows it).
    await edited.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.locator(`li.memory[data-id="${memoryId}"]`).waitFor({ state: 'detached' });

    // Erase a user, with confirmation typed.
    await page.getByLabel('Find a user').fill('');
    await page.getByRole('button', { name: /bob/ }).click();
    await page.getByRole('button', { name: 'Erase user…' }).click();
    const dialog = page.getByRole('dialog');
    assert.equal(await dialog.getByRole('button', { name: 'Erase user' }).isDisabled(), true);
    await dialog.getByLabel('Type bob to confirm').fill('bob');
    await dialog.getByRole('button', { name: 'Erase user' }).click();
    await page.getByText('bob was erased.').waitFor();
    await waitFor(
      async () => !((await page.locator('#user-list').textContent()) ?? '').includes('bob'),
      10_000,
      'bob to leave the list',
    );
    assert.deepEqual(errors, []);
  });

  test('an app key sees only its app; stored markup renders as text, never runs', async () => {
    const acme = keys.acme ?? '';
    const globex = keys.globex ?? '';
    for (const text of [...XSS_TEXTS, 'Acme secret: the launch code is BLUEFALCON']) {
      const added = await api<{ results: unknown[] }>(acme, 'POST', '/api/memories', {
        messages: text,
        userId: 'mallory',
        infer: false,
      });
      assert.equal(added.status, 201);
      assert.equal(added.body.results.length, 1, `stored: ${text}`);
    }

    // globex signs in with its key through the form and sees no user of acme.
    const { page, dialogs, errors } = await newPage();
    await page.goto(`${server.url}/`);
    await page.getByLabel(/API key/).fill(globex);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('0 user(s)').waitFor();
    assert.equal(await page.locator('#user-list li').count(), 0);
    assert.equal((await api(globex, 'GET', '/api/users/mallory/timeline')).status, 200);
    const globexView = await api<{ total: number }>(globex, 'GET', '/api/users/mallory/timeline');
    assert.equal(globexView.body.total, 0, "globex's key finds no memory of acme's mallory");

    // acme sees mallory, and the markup is shown as the literal text.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel(/API key/).fill(acme);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: /mallory/ }).click();
    await page.getByRole('tab', { name: 'Memories' }).click();
    for (const text of XSS_TEXTS) await page.getByText(text, { exact: true }).waitFor();
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByLabel(/^Prompt/).fill('alert script img onerror');
    await page.getByRole('button', { name: 'Search as the agent' }).click();
    await page.locator('#candidates').waitFor();
    assert.match((await page.locator('#injected-block').textContent()) ?? '', /alert\(1\)/);
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], 'no alert() ran');
    assert.equal(await page.locator('#app img, #app script').count(), 0, 'no markup was created');
    assert.deepEqual(errors, []);
  });

  test('the admin key without an app is told what to use', async () => {
    const created = await runMneme(['keys', 'create', '--admin', '--json'], env);
    const admin = (JSON.parse(created.stdout) as { key: string }).key;
    const { page } = await newPage();
    await page.goto(`${server.url}/console/`);
    await page.getByLabel(/API key/).fill(admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not bound to an app/);
  });
});
