/** The live view of ingestion: queue depth, newest memories, dead letters (with retry), search latency. */
import type { Api } from './api.js';
import { latencyChart } from './charts.js';
import { announce, h, show, when } from './dom.js';
import type { MemoryRecord } from './types.js';

interface Ingestion {
  queueDepth: number | null;
  recent: MemoryRecord[];
  deadLetters: Array<{
    id: string;
    userId?: string;
    attempts: number;
    error: string;
    failedAt: string;
    preview: string;
  }>;
}

const REFRESH_MS = 5000;

export function ingestionView(api: Api): HTMLElement {
  const body = h('div', { 'aria-live': 'polite' });
  const refresh = async () => {
    const [ingestion, stats] = await Promise.all([
      api.request<Ingestion>('GET', '/api/ingestion'),
      api.request<{ searches: Array<{ at: string; durationMs: number; route: string }> }>(
        'GET',
        '/api/stats/searches',
      ),
    ]);
    show(
      body,
      h(
        'p',
        { id: 'queue-depth' },
        ingestion.queueDepth === null
          ? 'Queue depth: shown to sessions that see every app.'
          : `Queue depth: ${ingestion.queueDepth} item(s) waiting.`,
      ),
      h('h3', {}, `Dead letters (${ingestion.deadLetters.length})`),
      ingestion.deadLetters.length === 0
        ? h('p', {}, 'None: every queued item was ingested.')
        : h(
            'ul',
            { class: 'letters' },
            ingestion.deadLetters.map((letter) =>
              h(
                'li',
                {},
                h(
                  'p',
                  {},
                  h('strong', {}, letter.userId ?? '(no user)'),
                  ` failed ${when(letter.failedAt)} after ${letter.attempts} attempts: `,
                  h('code', {}, letter.error),
                ),
                letter.preview ? h('p', { class: 'muted' }, h('q', {}, letter.preview)) : null,
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: () =>
                      void api
                        .request('POST', `/api/ingestion/dead-letters/${encodeURIComponent(letter.id)}/retry`)
                        .then(
                          () => {
                            announce('Queued again.');
                            void refresh();
                          },
                          (error: Error) => announce(error.message, 'error'),
                        ),
                  },
                  'Retry',
                ),
              ),
            ),
          ),
      h('h3', {}, 'Newest memories'),
      h(
        'ul',
        { class: 'recent' },
        ingestion.recent.map((record) =>
          h(
            'li',
            {},
            h('span', { class: 'muted' }, `${when(record.createdAt)} ${record.userId ?? ''}: `),
            record.memory,
          ),
        ),
      ),
      h('h3', {}, 'Latency of recent searches'),
      latencyChart(stats.searches),
    );
  };
  const timer = setInterval(() => {
    if (!body.isConnected) clearInterval(timer);
    else void refresh().catch(() => undefined);
  }, REFRESH_MS);
  void refresh().catch((error: Error) =>
    show(body, h('p', { class: 'error', role: 'alert' }, error.message)),
  );
  return h(
    'section',
    { 'aria-labelledby': 'ingestion-title' },
    h('h2', { id: 'ingestion-title' }, 'Ingestion'),
    body,
  );
}
