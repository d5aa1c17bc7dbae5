/**
 * The memory console's entry point: sign-in (a one-time link from `mneme console`, or an API key), then the users
 * list beside the selected user's view, and the ingestion view. The session key lives in sessionStorage (this
 * tab only) and is sent to the REST API as a Bearer token.
 */
import { Api, ApiError, redeemLoginToken } from './api.js';
import { announce, h, show } from './dom.js';
import { ingestionView } from './ingestion.js';
import { queryOf, type Subject, type UserEntry } from './types.js';
import { userView } from './user-view.js';

const STORAGE_KEY = 'mneme.console.key';
const USERS_PAGE = 50;

const root = document.getElementById('app');

async function boot(): Promise<void> {
  if (!root) return;
  const token = new URLSearchParams(location.hash.slice(1)).get('login');
  if (token) {
    // Drop the token from the address bar and history at once: it is spent either way.
    history.replaceState(null, '', location.pathname);
    try {
      const session = await redeemLoginToken(token);
      sessionStorage.setItem(STORAGE_KEY, session.key);
    } catch (error) {
      return loginView((error as Error).message);
    }
  }
  const key = sessionStorage.getItem(STORAGE_KEY);
  if (!key) return loginView();
  const api = new Api(key);
  try {
    await api.request('GET', '/api/users?limit=1');
  } catch (error) {
    sessionStorage.removeItem(STORAGE_KEY);
    return loginView(describeSignInError(error));
  }
  mainView(api);
}

function describeSignInError(error: unknown): string {
  if (error instanceof ApiError && error.status === 403) {
    return `${error.message}. The console needs an app key; an admin key reaches memories only when it has an app (mneme keys create --admin --app APP).`;
  }
  return (error as Error).message;
}

function loginView(problem?: string): void {
  if (!root) return;
  const input = h('input', {
    id: 'api-key',
    type: 'password',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  show(
    root,
    h(
      'main',
      { class: 'login' },
      h('h1', {}, 'mneme memory console'),
      problem ? h('p', { class: 'error', role: 'alert' }, problem) : null,
      h(
        'form',
        {
          class: 'stack',
          onsubmit: (event: Event) => {
            event.preventDefault();
            sessionStorage.setItem(STORAGE_KEY, input.value.trim());
            void boot();
          },
        },
        h('label', { for: 'api-key' }, 'API key (an app key: mneme keys create --app APP)'),
        input,
        h('button', { type: 'submit' }, 'Sign in'),
      ),
      h(
        'p',
        { class: 'muted' },
        'On your own machine, `mneme console` signs you in with a one-time link instead.',
      ),
    ),
  );
  input.focus();
}

function mainView(api: Api): void {
  if (!root) return;
  const content = h(
    'main',
    { id: 'content', tabindex: -1 },
    h('p', {}, 'Choose a user to see what the agent knows about them.'),
  );
  const users = h('ul', { class: 'users', id: 'user-list', 'aria-label': 'Users' });
  const more = h('button', { type: 'button', hidden: true }, 'More users');
  const total = h('p', { class: 'muted', 'aria-live': 'polite' });
  const search = h('input', { id: 'user-search', type: 'search', autocomplete: 'off' });
  let cursor: string | undefined;
  let selected: HTMLButtonElement | undefined;

  const loadUsers = async (reset: boolean) => {
    if (reset) {
      cursor = undefined;
      users.replaceChildren();
    }
    const page = await api.request<{ results: UserEntry[]; total: number; nextCursor?: string }>(
      'GET',
      `/api/users?${queryOf({ q: search.value.trim() || undefined, limit: String(USERS_PAGE), cursor })}`,
    );
    for (const entry of page.results) {
      const subject: Subject = {
        userId: entry.userId,
        ...(entry.appId !== undefined ? { appId: entry.appId } : {}),
      };
      const button = h(
        'button',
        {
          type: 'button',
          class: 'user',
          onclick: () => {
            selected?.removeAttribute('aria-current');
            button.setAttribute('aria-current', 'true');
            selected = button;
            show(
              content,
              userView(api, subject, () => {
                show(content, h('p', {}, `${subject.userId} was erased.`));
                void loadUsers(true);
              }),
            );
            content.focus();
          },
        },
        h('span', { class: 'name' }, entry.userId),
        entry.appId ? h('span', { class: 'muted' }, ` ${entry.appId}`) : null,
        h('span', { class: 'count' }, String(entry.memories)),
      );
      users.appendChild(h('li', {}, button));
    }
    cursor = page.nextCursor;
    more.hidden = cursor === undefined;
    total.textContent = `${page.total} user(s)`;
  };
  let debounce: ReturnType<typeof setTimeout> | undefined;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void loadUsers(true).catch(report), 200);
  });
  more.addEventListener('click', () => void loadUsers(false).catch(report));

  show(
    root,
    h(
      'header',
      { class: 'top' },
      h('h1', {}, 'mneme'),
      h(
        'nav',
        { 'aria-label': 'Console' },
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              show(content, h('p', {}, 'Choose a user to see what the agent knows about them.'));
              void loadUsers(true).catch(report);
            },
          },
          'Users',
        ),
        h('button', { type: 'button', onclick: () => show(content, ingestionView(api)) }, 'Ingestion'),
        h(
          'button',
          {
            type: 'button',
            onclick: () => {
              sessionStorage.removeItem(STORAGE_KEY);
              loginView();
            },
          },
          'Sign out',
        ),
      ),
    ),
    h(
      'div',
      { class: 'layout' },
      h(
        'aside',
        { 'aria-label': 'Users' },
        h('label', { for: 'user-search' }, 'Find a user'),
        search,
        total,
        users,
        more,
      ),
      content,
    ),
    h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' }),
  );
  void loadUsers(true).catch(report);
}

function report(error: unknown): void {
  announce((error as Error).message, 'error');
}

void boot();
