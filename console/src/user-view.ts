/** One user: profile, memories, search as the agent, memories over time; export and erase. */
import type { Api } from './api.js';
import { timelineChart } from './charts.js';
import { announce, type Child, confirmDialog, h, show, when } from './dom.js';
import { explainView } from './explain.js';
import { memoriesView } from './memories.js';
import { type ProfileItem, queryOf, type Subject, scopeOf } from './types.js';

const TABS = ['Profile', 'Memories', 'Search', 'Over time'] as const;
type Tab = (typeof TABS)[number];

export function userView(api: Api, subject: Subject, onErased: () => void): HTMLElement {
  const panel = h('div', { id: 'user-panel', role: 'tabpanel', tabindex: -1 });
  const buttons = TABS.map((tab) =>
    h(
      'button',
      {
        type: 'button',
        role: 'tab',
        id: `tab-${slug(tab)}`,
        'aria-controls': 'user-panel',
        onclick: () => select(tab),
      },
      tab,
    ),
  );
  const select = (tab: Tab) => {
    for (const [index, button] of buttons.entries()) {
      const selected = TABS[index] === tab;
      button.setAttribute('aria-selected', selected ? 'true' : 'false');
      button.tabIndex = selected ? 0 : -1;
    }
    panel.setAttribute('aria-labelledby', `tab-${slug(tab)}`);
    if (tab === 'Profile') show(panel, profileView(api, subject));
    else if (tab === 'Memories')
      show(
        panel,
        memoriesView(api, subject, () => undefined),
      );
    else if (tab === 'Search') show(panel, explainView(api, subject));
    else show(panel, timelineView(api, subject));
  };
  const tabList = h('div', { role: 'tablist', 'aria-label': 'User views', class: 'tabs' }, buttons);
  // Arrow keys move between tabs (the WAI-ARIA tabs pattern).
  tabList.addEventListener('keydown', (event) => {
    const index = buttons.indexOf(document.activeElement as HTMLButtonElement);
    if (index < 0 || (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft')) return;
    const next = (index + (event.key === 'ArrowRight' ? 1 : buttons.length - 1)) % buttons.length;
    buttons[next]?.focus();
    select(TABS[next] ?? 'Profile');
  });
  const view = h(
    'article',
    { 'aria-labelledby': 'user-title' },
    h(
      'header',
      { class: 'user-header' },
      h(
        'h2',
        { id: 'user-title' },
        subject.userId,
        subject.appId ? h('span', { class: 'muted' }, ` in app ${subject.appId}`) : null,
      ),
      h(
        'div',
        { class: 'actions' },
        h(
          'button',
          { type: 'button', onclick: () => void exportUser(api, subject).catch(report) },
          'Export JSONL',
        ),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: async () => {
              const confirmed = await confirmDialog({
                title: `Erase ${subject.userId}?`,
                body: h(
                  'p',
                  {},
                  `Every memory of ${subject.userId}, its history text, queued and dead-lettered items are erased. This cannot be undone.`,
                ),
                confirm: 'Erase user',
                typeToConfirm: subject.userId,
              });
              if (!confirmed) return;
              await api
                .request<{ deleted: number }>('DELETE', `/api/memories?${queryOf(scopeOf(subject))}`)
                .then((result) => {
                  announce(`Erased ${subject.userId}: ${result.deleted} memories.`);
                  onErased();
                }, report);
            },
          },
          'Erase user…',
        ),
      ),
    ),
    tabList,
    panel,
  );
  select('Profile');
  return view;
}

function profileView(api: Api, subject: Subject): HTMLElement {
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const query = queryOf({ ...(subject.appId ? { appId: subject.appId } : {}), maxTokens: '4000' });
  void api
    .request<{ items: ProfileItem[]; omitted: number; tokens: number }>(
      'GET',
      `/api/users/${encodeURIComponent(subject.userId)}/profile?${query}`,
    )
    .then((profile) =>
      show(
        body,
        profile.items.length === 0
          ? h('p', {}, 'No standing instructions, preferences or facts yet.')
          : h(
              'ul',
              { class: 'profile', id: 'profile-items' },
              profile.items.map((item) =>
                h(
                  'li',
                  {},
                  h('span', { class: `kind kind-${item.kind}` }, item.kind.replace('_', ' ')),
                  item.pinned ? h('span', { class: 'badge' }, 'pinned') : null,
                  ' ',
                  h('span', { class: 'text' }, item.memory),
                  h('span', { class: 'muted' }, ` ${when(item.updatedAt)}`),
                ),
              ),
            ),
        h(
          'p',
          { class: 'muted' },
          `${profile.tokens} tokens; ${profile.omitted} left out by the budget. At session start the agent gets this within its profile budget (400 tokens by default).`,
        ),
      ),
    )
    .catch((error: Error) => show(body, h('p', { class: 'error', role: 'alert' }, error.message)));
  return h(
    'section',
    { 'aria-labelledby': 'profile-title' },
    h('h3', { id: 'profile-title' }, 'Profile: what the agent always knows'),
    body,
  );
}

function timelineView(api: Api, subject: Subject): HTMLElement {
  const body = h('div', {}, h('p', {}, 'Loading…'));
  const query = queryOf(subject.appId ? { appId: subject.appId } : {});
  void api
    .request<Parameters<typeof timelineChart>[0] & { truncated: boolean }>(
      'GET',
      `/api/users/${encodeURIComponent(subject.userId)}/timeline?${query}`,
    )
    .then((data) =>
      show(
        body,
        timelineChart(data),
        data.truncated ? h('p', { class: 'muted' }, 'Only the newest 200,000 memories are counted.') : null,
      ),
    )
    .catch((error: Error) => show(body, h('p', { class: 'error', role: 'alert' }, error.message)));
  return h(
    'section',
    { 'aria-labelledby': 'timeline-title' },
    h('h3', { id: 'timeline-title' }, 'Memories over time, per kind'),
    body,
  );
}

async function exportUser(api: Api, subject: Subject): Promise<void> {
  const response = await api.raw('GET', `/api/export?${queryOf(scopeOf(subject))}`);
  const blob = await response.blob();
  const link = h('a', { href: URL.createObjectURL(blob), download: `${subject.userId}.jsonl` });
  document.body.appendChild(link);
  link.click();
  link.remove();
  announce(`Exported ${subject.userId}'s memories.`);
}

function slug(tab: Tab): string {
  return tab.toLowerCase().replace(/\s+/g, '-');
}

function report(error: unknown): Child {
  announce((error as Error).message, 'error');
  return null;
}
