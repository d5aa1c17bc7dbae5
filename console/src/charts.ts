/** Small SVG charts, drawn with the same text-only DOM helper; each has a text summary for screen readers. */
import { type Child, h, svg } from './dom.js';

const COLOURS: Record<string, string> = {
  instruction: '#7c3aed',
  preference: '#2563eb',
  user_fact: '#059669',
  message: '#9ca3af',
};

/** Stacked bars: memories created per bucket, one colour per kind. */
export function timelineChart(data: {
  unit: string;
  kinds: readonly string[];
  buckets: Array<{ start: string; counts: Record<string, number> }>;
  total: number;
}): Child {
  if (data.buckets.length === 0) return h('p', {}, 'No memories yet.');
  const width = 640;
  const height = 160;
  const max = Math.max(...data.buckets.map((bucket) => sum(Object.values(bucket.counts))));
  const barWidth = Math.max(2, Math.floor((width - 40) / data.buckets.length) - 2);
  const bars = data.buckets.flatMap((bucket, index) => {
    let y = height - 20;
    return data.kinds.flatMap((kind) => {
      const count = bucket.counts[kind] ?? 0;
      if (count === 0) return [];
      const barHeight = Math.max(1, Math.round(((height - 30) * count) / max));
      y -= barHeight;
      return [
        svg(
          'rect',
          {
            x: 30 + index * (barWidth + 2),
            y,
            width: barWidth,
            height: barHeight,
            fill: COLOURS[kind] ?? '#6b7280',
          },
          svg('title', {}, `${bucket.start}: ${count} ${kind}`),
        ),
      ];
    });
  });
  const first = data.buckets[0]?.start ?? '';
  const last = data.buckets.at(-1)?.start ?? '';
  const summary = `${data.total} memories created per ${data.unit} from ${first} to ${last}, at most ${max} in one ${data.unit}`;
  return h(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary },
      svg('text', { x: 0, y: 12, class: 'axis' }, String(max)),
      svg('text', { x: 0, y: height - 22, class: 'axis' }, '0'),
      svg('text', { x: 30, y: height - 4, class: 'axis' }, first),
      svg('text', { x: width - 80, y: height - 4, class: 'axis' }, last),
      bars,
    ),
    h(
      'figcaption',
      {},
      summary,
      h(
        'ul',
        { class: 'legend' },
        data.kinds.map((kind) =>
          h('li', {}, h('span', { class: 'swatch', 'data-kind': kind }), kind.replace('_', ' ')),
        ),
      ),
    ),
  );
}

/** Bars of the last searches' latency in milliseconds, oldest left. */
export function latencyChart(searches: Array<{ at: string; durationMs: number; route: string }>): Child {
  if (searches.length === 0) return h('p', {}, 'No searches yet in this server process.');
  const width = 640;
  const height = 120;
  const max = Math.max(1, ...searches.map((item) => item.durationMs));
  const step = (width - 40) / searches.length;
  const sorted = [...searches.map((item) => item.durationMs)].sort((a, b) => a - b);
  const p50 = sorted[Math.floor(sorted.length * 0.5)] ?? 0;
  const p95 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))] ?? 0;
  const summary = `${searches.length} searches: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms`;
  return h(
    'figure',
    { class: 'chart' },
    svg(
      'svg',
      { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': summary },
      svg('text', { x: 0, y: 12, class: 'axis' }, `${max.toFixed(0)} ms`),
      searches.map((item, index) => {
        const barHeight = Math.max(1, ((height - 20) * item.durationMs) / max);
        return svg(
          'rect',
          {
            x: 36 + index * step,
            y: height - 4 - barHeight,
            width: Math.max(1, step - 1),
            height: barHeight,
            fill: '#2563eb',
          },
          svg('title', {}, `${item.at.slice(11, 19)} ${item.route}: ${item.durationMs} ms`),
        );
      }),
    ),
    h('figcaption', {}, summary),
  );
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
