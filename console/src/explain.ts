/** Search as the agent would: the exact block `withMemory` injects for a prompt, and every candidate's scores. */
import type { Api } from './api.js';
import { type Child, h, show } from './dom.js';
import { type Candidate, type ProfileItem, type Subject, scopeOf } from './types.js';

interface Explained {
  text: string;
  profile: Array<ProfileItem & { included: boolean; reason?: string }>;
  relevant: Candidate[];
  tookMs: number;
}

const REASONS: Record<string, string> = {
  threshold: 'below the score threshold',
  already_injected: 'already given in this session',
  in_profile: 'already in the profile section',
  limit: 'past the result limit',
  budget: 'cut by the token budget',
};

export function explainView(api: Api, subject: Subject): HTMLElement {
  const result = h('div', { id: 'explain-result', 'aria-live': 'polite' });
  const prompt = h('textarea', { id: 'explain-prompt', rows: 3, required: true });
  const withProfile = h('input', { type: 'checkbox', id: 'explain-profile', checked: true });
  const form = h(
    'form',
    {
      class: 'stack',
      onsubmit: async (event: Event) => {
        event.preventDefault();
        show(result, h('p', {}, 'Searching…'));
        try {
          const explained = await api.request<Explained>('POST', '/api/context/explain', {
            ...scopeOf(subject),
            prompt: prompt.value,
            includeProfile: withProfile.checked,
          });
          show(result, renderExplained(explained));
        } catch (error) {
          show(result, h('p', { class: 'error', role: 'alert' }, (error as Error).message));
        }
      },
    },
    h('label', { for: 'explain-prompt' }, 'Prompt (what the user would say to the agent)'),
    prompt,
    h('label', { class: 'inline' }, withProfile, ' first prompt of a session (the profile is given too)'),
    h('div', {}, h('button', { type: 'submit' }, 'Search as the agent')),
  );
  return h(
    'section',
    { 'aria-labelledby': 'explain-title' },
    h('h3', { id: 'explain-title' }, 'Search as the agent'),
    form,
    result,
  );
}

function renderExplained(explained: Explained): Child {
  return [
    h('p', { class: 'muted' }, `Built in ${explained.tookMs} ms.`),
    h('h4', {}, 'The block withMemory injects'),
    explained.text === ''
      ? h('p', {}, 'Nothing would be injected for this prompt.')
      : h('pre', { class: 'block', id: 'injected-block', tabindex: 0 }, explained.text),
    explained.profile.length > 0
      ? [
          h('h4', {}, 'Profile section'),
          h(
            'table',
            { class: 'grid' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                h('th', { scope: 'col' }, 'Memory'),
                h('th', { scope: 'col' }, 'Kind'),
                h('th', { scope: 'col' }, 'In the block'),
              ),
            ),
            h(
              'tbody',
              {},
              explained.profile.map((item) =>
                h(
                  'tr',
                  { class: item.included ? '' : 'cut' },
                  h('td', {}, item.memory),
                  h('td', {}, item.kind),
                  h('td', {}, inclusion(item)),
                ),
              ),
            ),
          ),
        ]
      : null,
    h('h4', {}, `Search candidates (${explained.relevant.length})`),
    explained.relevant.length === 0
      ? h('p', {}, 'No candidates.')
      : h(
          'table',
          { class: 'grid', id: 'candidates' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              [
                'Memory',
                'Dense',
                'Keyword',
                'Recency',
                'RRF',
                'Session',
                'Speaker',
                'Fused',
                'In the block',
              ].map((name) => h('th', { scope: 'col' }, name)),
            ),
          ),
          h(
            'tbody',
            {},
            explained.relevant.map((item) =>
              h(
                'tr',
                { class: item.included ? '' : 'cut' },
                h('td', {}, item.memory),
                h('td', { class: 'num' }, item.scores.dense.toFixed(3)),
                h('td', { class: 'num' }, item.scores.keyword.toFixed(3)),
                h('td', { class: 'num' }, item.scores.recency.toFixed(3)),
                h('td', { class: 'num' }, item.scores.rrf.toFixed(3)),
                h('td', { class: 'num' }, item.scores.session.toFixed(3)),
                h('td', { class: 'num' }, item.scores.speaker.toFixed(0)),
                h('td', { class: 'num' }, item.score.toFixed(3)),
                h('td', {}, inclusion(item)),
              ),
            ),
          ),
        ),
  ];
}

function inclusion(item: { included: boolean; reason?: string }): string {
  return item.included ? 'yes' : `no: ${REASONS[item.reason ?? ''] ?? item.reason ?? ''}`;
}
