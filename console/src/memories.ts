/**
 * A user's memories, newest first, paged on the server (50 at a time, "Load more" follows the cursor), with
 * each memory's kind, dates, source and supersession, and the actions: edit, pin, mark wrong, delete, history.
 */
import type { Api } from './api.js';
import { announce, type Child, confirmDialog, h, show, when } from './dom.js';
import { type HistoryEvent, type MemoryRecord, type Subject, scopeOf } from './types.js';

const PAGE = 50;
const KINDS = ['instruction', 'preference', 'user_fact', 'message'];

export function memoriesView(api: Api, subject: Subject, onChange: () => void): HTMLElement {
  const list = h('ol', { class: 'memories', id: 'memory-list', 'aria-label': 'Memories' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const count = h('p', { class: 'muted', 'aria-live': 'polite' });
  const kind = h(
    'select',
    { id: 'kind-filter' },
    h('option', { value: '' }, 'every kind'),
    KINDS.map((name) => h('option', { value: name }, name.replace('_', ' '))),
  );
  const superseded = h('input', { type: 'checkbox', id: 'show-superseded', checked: true });
  let cursor: string | undefined;
  let shown = 0;

  const load = async (reset: boolean) => {
    if (reset) {
      cursor = undefined;
      shown = 0;
      list.replaceChildren();
    }
    const page = await api.request<{ results: MemoryRecord[]; nextCursor?: string }>(
      'POST',
      '/api/memories/list',
      {
        ...scopeOf(subject),
        limit: PAGE,
        includeSuperseded: superseded.checked,
        includeExpired: superseded.checked,
        ...(kind.value ? { filters: { kind: kind.value } } : {}),
        ...(cursor ? { cursor } : {}),
      },
    );
    for (const record of page.results) list.appendChild(memoryItem(api, record, refresh));
    shown += page.results.length;
    cursor = page.nextCursor;
    more.hidden = cursor === undefined;
    count.textContent = `${shown} shown${cursor ? ', more on the server' : ''}`;
  };
  const refresh = () => {
    onChange();
    void load(true).catch(report);
  };
  more.addEventListener('click', () => void load(false).catch(report));
  kind.addEventListener('change', () => void load(true).catch(report));
  superseded.addEventListener('change', () => void load(true).catch(report));
  void load(true).catch(report);
  return h(
    'section',
    { 'aria-labelledby': 'memories-title' },
    h('h3', { id: 'memories-title' }, 'Memories'),
    h(
      'div',
      { class: 'toolbar' },
      h('label', { for: 'kind-filter' }, 'Kind '),
      kind,
      h('label', { class: 'inline' }, superseded, ' show superseded and expired'),
    ),
    count,
    list,
    more,
  );
}

function memoryItem(api: Api, record: MemoryRecord, refresh: () => void): HTMLElement {
  const pinned = record.metadata['mneme:pinned'] === true;
  const details = h('div', { class: 'details' });
  const item = h(
    'li',
    { class: record.validTo ? 'memory superseded' : 'memory', 'data-id': record.id },
    h('p', { class: 'text' }, record.memory),
    h(
      'p',
      { class: 'meta' },
      h('span', { class: `kind kind-${record.kind}` }, record.kind.replace('_', ' ')),
      pinned ? h('span', { class: 'badge' }, 'pinned') : null,
      ` created ${when(record.createdAt)}`,
      record.observedAt !== record.createdAt ? `, said ${when(record.observedAt)}` : '',
      record.updatedAt !== record.createdAt ? `, updated ${when(record.updatedAt)}` : '',
      sourceOf(record),
      record.validTo
        ? `, superseded ${when(record.validTo)}${record.supersededBy ? ` by ${record.supersededBy.slice(0, 8)}` : ''}`
        : '',
    ),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'button', onclick: () => editForm(api, record, details, refresh) }, 'Edit'),
      h(
        'button',
        {
          type: 'button',
          'aria-pressed': pinned ? 'true' : 'false',
          onclick: async () => {
            await api
              .request('PATCH', `/api/memories/${encodeURIComponent(record.id)}`, {
                metadata: { ...record.metadata, 'mneme:pinned': !pinned },
              })
              .then(() => {
                announce(pinned ? 'Unpinned from the profile.' : 'Pinned to the profile.');
                refresh();
              }, report);
          },
        },
        pinned ? 'Unpin' : 'Pin to profile',
      ),
      record.validTo
        ? null
        : h(
            'button',
            { type: 'button', onclick: () => correctForm(api, record, details, refresh) },
            'Mark wrong',
          ),
      h(
        'button',
        { type: 'button', onclick: () => void historyPanel(api, record, details).catch(report) },
        'History',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: async () => {
            const confirmed = await confirmDialog({
              title: 'Delete this memory?',
              body: [
                h('p', {}, 'It is erased everywhere, its history text included:'),
                h('blockquote', {}, record.memory),
              ],
              confirm: 'Delete',
            });
            if (!confirmed) return;
            await api.request('DELETE', `/api/memories/${encodeURIComponent(record.id)}`).then(() => {
              announce('Memory deleted.');
              refresh();
            }, report);
          },
        },
        'Delete',
      ),
    ),
    details,
  );
  return item;
}

function sourceOf(record: MemoryRecord): string {
  const parts: string[] = [];
  if (record.runId) parts.push(`session ${record.runId}`);
  const session = record.metadata.sessionId;
  if (typeof session === 'string' && session !== record.runId) parts.push(`SDK session ${session}`);
  if (typeof record.metadata.source === 'string') parts.push(`via ${record.metadata.source}`);
  if (record.role) parts.push(`${record.speaker ?? record.role}'s message`);
  if (record.agentId) parts.push(`agent ${record.agentId}`);
  if (record.appId) parts.push(`app ${record.appId}`);
  return parts.length ? `, from ${parts.join(', ')}` : '';
}

function editForm(api: Api, record: MemoryRecord, target: HTMLElement, refresh: () => void): void {
  const id = `edit-${record.id}`;
  const text = h('textarea', { id, rows: 3 });
  text.value = record.memory;
  const kind = h(
    'select',
    { id: `${id}-kind` },
    KINDS.map((name) => h('option', { value: name, selected: name === record.kind }, name)),
  );
  inlineForm(target, {
    fields: [h('label', { for: id }, 'Memory text'), text, h('label', { for: `${id}-kind` }, 'Kind'), kind],
    submit: 'Save',
    focus: text,
    save: async () => {
      await api.request('PATCH', `/api/memories/${encodeURIComponent(record.id)}`, {
        ...(text.value !== record.memory ? { text: text.value } : {}),
        ...(kind.value !== record.kind ? { kind: kind.value } : {}),
      });
      announce('Memory updated.');
      refresh();
    },
  });
}

function correctForm(api: Api, record: MemoryRecord, target: HTMLElement, refresh: () => void): void {
  const id = `correct-${record.id}`;
  const text = h('textarea', { id, rows: 2, required: true });
  inlineForm(target, {
    fields: [h('label', { for: id }, 'What is true instead (the correction supersedes this memory)'), text],
    submit: 'Save correction',
    focus: text,
    save: async () => {
      await api.request('POST', `/api/memories/${encodeURIComponent(record.id)}/correct`, {
        text: text.value,
      });
      announce('Marked wrong; the correction supersedes it.');
      refresh();
    },
  });
}

/** A form inside a memory's details: its fields, a submit button running `save`, and Cancel. */
function inlineForm(
  target: HTMLElement,
  options: { fields: Child[]; submit: string; focus: HTMLElement; save: () => Promise<void> },
): void {
  show(
    target,
    h(
      'form',
      {
        class: 'stack',
        onsubmit: (event: Event) => {
          event.preventDefault();
          void options.save().catch(report);
        },
      },
      options.fields,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, options.submit),
        h('button', { type: 'button', onclick: () => target.replaceChildren() }, 'Cancel'),
      ),
    ),
  );
  options.focus.focus();
}

/** The memory's history, and the supersession chain: what it replaced and what replaced it. */
async function historyPanel(api: Api, record: MemoryRecord, target: HTMLElement): Promise<void> {
  const { history } = await api.request<{ history: HistoryEvent[] }>(
    'GET',
    `/api/memories/${encodeURIComponent(record.id)}/history`,
  );
  const chain: Child[] = [];
  let next = record.supersededBy;
  for (let step = 0; next !== undefined && step < 20; step += 1) {
    const newer: MemoryRecord | null = await api
      .request<MemoryRecord>('GET', `/api/memories/${encodeURIComponent(next)}`)
      .catch(() => null);
    if (!newer) break;
    chain.push(h('li', {}, `replaced ${when(newer.createdAt)} by: `, h('q', {}, newer.memory)));
    next = newer.supersededBy;
  }
  show(
    target,
    h(
      'section',
      { class: 'history', 'aria-label': 'History' },
      h('h4', {}, 'History'),
      h(
        'ol',
        { class: 'events' },
        history.map((event) =>
          h(
            'li',
            {},
            h('strong', {}, event.event),
            ` ${when(event.createdAt)} by ${event.actor}`,
            event.previousValue !== undefined
              ? h('div', {}, 'before: ', h('q', {}, event.previousValue))
              : null,
            event.newValue !== undefined ? h('div', {}, 'after: ', h('q', {}, event.newValue)) : null,
            event.reason ? h('div', { class: 'muted' }, event.reason) : null,
          ),
        ),
      ),
      chain.length ? [h('h4', {}, 'Superseded by'), h('ol', {}, chain)] : null,
      h('button', { type: 'button', onclick: () => target.replaceChildren() }, 'Close history'),
    ),
  );
}

function report(error: unknown): void {
  announce((error as Error).message, 'error');
}
