/**
 * The `locomo` suite: LLM-free retrieval quality on LoCoMo-format data, side by side for
 * - `mneme`: hybrid search (dense + BM25 + fusion, src/core/ranking.ts) on the SQLite store,
 * - `bm25`:  the same store and memories, `mode: 'keyword'`,
 * - `dense`: the same store and memories, `mode: 'dense'`,
 * - `mem0`:  Mem0 OSS, `infer: false`, the same embedder injected, its default local vector store.
 * One user per conversation; every turn is one memory (`add` with `infer: false`, `observedAt` = session date,
 * metadata `dia_id`). Every text is embedded once (CachingEmbedder), so all systems see identical vectors.
 * Search latency is measured on a second pass over the questions, after the first pass collected the results,
 * so it excludes embedding (every vector is cached by then) for every system alike.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import type { CachingEmbedder } from '../support/caching-embedder.js';
import { createBenchEmbedder } from '../support/embedder.js';
import { describeMachine, machineInfo } from '../support/machine.js';
import { createMem0, type Mem0Handle } from '../support/mem0.js';
import { type BenchMemory, openBenchMemory } from '../support/mneme.js';
import { createProgress, log } from '../support/progress.js';
import { nowMs, round, summarise } from '../support/stats.js';
import { markdownTable } from '../support/table.js';
import { type LocomoConversation, type LocomoLoadReport, loadLocomo } from './data.js';
import { aggregate, METRIC_NAMES, type MetricReport, type MetricValues, scoreQuestion } from './metrics.js';

/** Options of {@link runLocomoBench}. */
export interface LocomoBenchOptions {
  dataPath: string;
  auditPath?: string;
  /** Only the first conversation. */
  quick: boolean;
  /** Only the first N conversations (overrides quick). */
  conversations?: number;
  /** Systems to run. @default all four */
  systems?: SystemName[];
  /** Embedder spec. @default 'local' */
  embedder?: string;
  /** Persist embeddings across runs in this file. */
  embeddingCache?: string;
  /**
   * Write one JSON line per (system, question) to this file: the question, its category and evidence, the ranked
   * dia_ids returned (top 20) and the question's metrics, so a miss can be looked at.
   */
  dumpPath?: string;
}

/** One line of the `--dump` file. */
export interface LocomoDumpLine {
  system: SystemName;
  question_id: string;
  category: number;
  question: string;
  evidence: string[];
  ranked: string[];
  metrics: MetricValues;
}

export const SYSTEM_NAMES = ['mneme', 'bm25', 'dense', 'mem0'] as const;
export type SystemName = (typeof SYSTEM_NAMES)[number];

/** Results per system, in the shape of the output contract (plus diagnostics). */
export interface SystemResult {
  cats1_4: MetricValues;
  categories: Record<string, MetricValues>;
  search_ms: { p50: number; p95: number };
}

/** The suite's JSON (the output contract's fields plus `questions`, `data`, `ingest`, `embedding`, `machine`). */
export interface LocomoBenchResult {
  suite: 'locomo';
  systems: Partial<Record<SystemName, SystemResult>>;
  questions: Record<string, number>;
  /** The file's load report; `conversations_used` / `turns_used` are what this run ingested. */
  data: LocomoLoadReport & {
    path: string;
    audit: string | null;
    conversations_used: number;
    turns_used: number;
  };
  ingest: Record<string, unknown>;
  /**
   * `computed` / `texts_per_s`: turns and questions embedded up front. `computed_during_search`: texts a system
   * embedded while searching (Mem0 embeds the entity phrases it extracts from each query).
   */
  embedding: {
    embedder: string;
    computed: number;
    texts_per_s: number;
    loaded_from_cache: number;
    computed_during_search: number;
  };
  machine: ReturnType<typeof machineInfo>;
  mem0_version?: string;
  elapsed_s: number;
}

/** The ranked dia_ids returned for one question by one system. */
type Ranked = string[][];

interface SearchSystem {
  name: SystemName;
  search(conversation: LocomoConversation, question: string, k: number): Promise<Ranked>;
}

const K = 20;

/** Runs the suite, printing progress to stderr and tables to stdout; returns the JSON object. */
export async function runLocomoBench(
  options: LocomoBenchOptions,
): Promise<{ result: LocomoBenchResult; text: string }> {
  const started = nowMs();
  const systems = options.systems ?? [...SYSTEM_NAMES];
  const machine = machineInfo();
  log(`locomo: ${describeMachine(machine)}`);
  const loaded = loadLocomo({
    dataPath: options.dataPath,
    ...(options.auditPath ? { auditPath: options.auditPath } : {}),
  });
  const limit = options.conversations ?? (options.quick ? 1 : loaded.conversations.length);
  const conversations = loaded.conversations.slice(0, limit);
  const turns = conversations.reduce((sum, conversation) => sum + conversation.turns.length, 0);
  const questions = conversations.reduce((sum, conversation) => sum + conversation.questions.length, 0);
  log(
    `locomo: ${conversations.length} conversations, ${turns} turns, ${questions} questions with evidence ` +
      `(${loaded.report.auditCorrections} evidence corrections from the audit)`,
  );

  const embedder = await createBenchEmbedder({
    ...(options.embedder ? { spec: options.embedder } : {}),
    ...(options.embeddingCache ? { cacheFile: options.embeddingCache } : {}),
  });
  const ingest: Record<string, unknown> = {};
  let mneme: BenchMemory | undefined;
  let mem0: Mem0Handle | undefined;
  try {
    await prefetch(embedder, conversations);
    const prefetched = { computed: embedder.stats.computed, computeMs: embedder.stats.computeMs };

    const runners: SearchSystem[] = [];
    const wantsMneme = systems.some((name) => name !== 'mem0');
    if (wantsMneme) {
      mneme = await openBenchMemory({ embedder });
      ingest.mneme = await ingestMneme(mneme, conversations);
      const memory = mneme.memory;
      for (const [name, mode] of [
        ['mneme', 'hybrid'],
        ['bm25', 'keyword'],
        ['dense', 'dense'],
      ] as const) {
        if (!systems.includes(name)) continue;
        runners.push({
          name,
          async search(conversation, question, k) {
            const { results } = await memory.search(question, {
              userId: conversation.sampleId,
              limit: k,
              mode,
            });
            return results.map((hit) => [String(hit.metadata.dia_id)]);
          },
        });
      }
    }
    if (systems.includes('mem0')) {
      mem0 = await createMem0({ embedder });
      ingest.mem0 = await ingestMem0(mem0, conversations);
      const handle = mem0;
      runners.push({
        name: 'mem0',
        async search(conversation, question, k) {
          const hits = await handle.search(question, {
            userId: conversation.sampleId,
            topK: k,
            threshold: 0,
          });
          return hits.map((hit) => [String(hit.metadata.dia_id)]);
        },
      });
    }

    const results: Partial<Record<SystemName, SystemResult>> = {};
    let counts: Record<string, number> = {};
    if (options.dumpPath) writeFileSync(options.dumpPath, '');
    for (const runner of runners) {
      const { report, latencies, dump } = await evaluate(runner, conversations, options.quick ? 100 : 400);
      if (options.dumpPath)
        appendFileSync(options.dumpPath, dump.map((line) => `${JSON.stringify(line)}\n`).join(''));
      counts = report.counts;
      const latency = summarise(latencies);
      results[runner.name] = {
        cats1_4: report.cats1_4,
        categories: report.categories,
        search_ms: { p50: latency.p50, p95: latency.p95 },
      };
      log(
        `  ${runner.name}: recall@10 ${report.cats1_4['turn_recall@10']}, ndcg@10 ${report.cats1_4['ndcg@10']}, ` +
          `search p50 ${latency.p50} ms`,
      );
    }
    const result: LocomoBenchResult = {
      suite: 'locomo',
      systems: results,
      questions: counts,
      data: {
        ...loaded.report,
        path: options.dataPath,
        audit: options.auditPath ?? null,
        conversations_used: conversations.length,
        turns_used: turns,
      },
      ingest,
      embedding: {
        embedder: embedder.id,
        computed: prefetched.computed,
        texts_per_s:
          prefetched.computeMs > 0 ? round(prefetched.computed / (prefetched.computeMs / 1000), 1) : 0,
        loaded_from_cache: embedder.stats.loaded,
        computed_during_search: embedder.stats.computed - prefetched.computed,
      },
      machine,
      ...(mem0 ? { mem0_version: mem0.version } : {}),
      elapsed_s: round((nowMs() - started) / 1000, 1),
    };
    return { result, text: renderLocomo(result) };
  } finally {
    await mneme?.close();
    await mem0?.close();
    await embedder.close();
  }
}

async function prefetch(embedder: CachingEmbedder, conversations: LocomoConversation[]): Promise<void> {
  const texts = conversations.flatMap((conversation) => [
    ...conversation.turns.map((turn) => turn.memoryText),
    ...conversation.questions.map((question) => question.question),
  ]);
  const missing = [...new Set(texts)].filter((text) => !embedder.has(text, 'document'));
  if (missing.length === 0) return;
  log(`locomo: embedding ${missing.length} texts once for every system (${embedder.id})`);
  const progress = createProgress('embedded', missing.length);
  await embedder.prefetch(missing, 'document', { onBatch: (count) => progress.tick(count) });
  progress.done();
}

async function ingestMneme(
  bench: BenchMemory,
  conversations: LocomoConversation[],
): Promise<Record<string, number>> {
  const total = conversations.reduce((sum, conversation) => sum + conversation.turns.length, 0);
  log(`locomo: ingesting ${total} turns into mneme (SQLite ${bench.dbPath})`);
  const progress = createProgress('mneme add', total);
  const tally = {
    turns: total,
    stored: 0,
    superseded: 0,
    skipped_low_signal: 0,
    skipped_duplicate: 0,
    add_per_s: 0,
  };
  const start = nowMs();
  for (const conversation of conversations) {
    for (const turn of conversation.turns) {
      // A transcript of two people: each turn is a named speaker's message, stored whole (questions included).
      const message = { role: 'user' as const, name: turn.speaker, content: turn.memoryText };
      const added = await bench.memory.add([message], {
        userId: conversation.sampleId,
        infer: false,
        observedAt: turn.observedAt,
        metadata: { dia_id: turn.diaId },
      });
      for (const item of added.results) {
        if (item.event === 'ADD' || item.event === 'SUPERSEDE') tally.stored += 1;
        if (item.event === 'SUPERSEDE') tally.superseded += 1;
        if (item.event === 'NOOP') tally.skipped_duplicate += 1;
      }
      for (const skipped of added.skipped) {
        if (skipped.reason === 'low_signal') tally.skipped_low_signal += 1;
        else if (skipped.reason === 'duplicate') tally.skipped_duplicate += 1;
      }
      progress.tick();
    }
  }
  progress.done();
  tally.add_per_s = round(total / ((nowMs() - start) / 1000), 1);
  return { ...tally, db_mb: bench.sizeMb() };
}

async function ingestMem0(
  handle: Mem0Handle,
  conversations: LocomoConversation[],
): Promise<Record<string, number>> {
  const total = conversations.reduce((sum, conversation) => sum + conversation.turns.length, 0);
  log(`locomo: ingesting ${total} turns into Mem0 ${handle.version} (infer: false)`);
  const progress = createProgress('mem0 add', total);
  const start = nowMs();
  for (const conversation of conversations) {
    for (const turn of conversation.turns) {
      await handle.add(turn.memoryText, { userId: conversation.sampleId, metadata: { dia_id: turn.diaId } });
      progress.tick();
    }
  }
  progress.done();
  return { turns: total, stored: total, add_per_s: round(total / ((nowMs() - start) / 1000), 1) };
}

async function evaluate(
  runner: SearchSystem,
  conversations: LocomoConversation[],
  timedSearches: number,
): Promise<{ report: MetricReport; latencies: number[]; dump: LocomoDumpLine[] }> {
  const all = conversations.flatMap((conversation) =>
    conversation.questions.map((question) => ({ conversation, question })),
  );
  const progress = createProgress(`${runner.name} search`, all.length + Math.min(all.length, timedSearches));
  const scored: Array<{ category: number; values: MetricValues }> = [];
  const dump: LocomoDumpLine[] = [];
  for (const { conversation, question } of all) {
    const ranked = await runner.search(conversation, question.question, K);
    const values = scoreQuestion(ranked, question.evidence);
    scored.push({ category: question.category, values });
    dump.push({
      system: runner.name,
      question_id: question.id,
      category: question.category,
      question: question.question,
      evidence: question.evidence,
      ranked: ranked.flat(),
      metrics: values,
    });
    progress.tick();
  }
  // Second pass: the same searches, timed, with every vector already cached. An evenly spaced sample of at
  // most `timedSearches` questions keeps slow systems (Mem0 scans every stored row per search) to minutes.
  const step = Math.max(1, all.length / timedSearches);
  const sample = Array.from(
    { length: Math.min(all.length, timedSearches) },
    (_, index) => all[Math.floor(index * step)],
  );
  const latencies: number[] = [];
  for (const item of sample) {
    if (!item) continue;
    const { conversation, question } = item;
    const start = nowMs();
    await runner.search(conversation, question.question, K);
    latencies.push(nowMs() - start);
    progress.tick();
  }
  progress.done();
  return { report: aggregate(scored), latencies, dump };
}

const CATEGORY_NAMES: Record<string, string> = {
  '1': 'multi-hop',
  '2': 'temporal',
  '3': 'open-domain',
  '4': 'single-hop',
  '5': 'adversarial',
};

/** The human-readable report: one table for categories 1-4, one per category, latency and ingestion. */
export function renderLocomo(result: LocomoBenchResult): string {
  const names = Object.keys(result.systems) as SystemName[];
  const headers = ['system', ...METRIC_NAMES, 'search p50 ms', 'search p95 ms'];
  const row = (name: SystemName, values: MetricValues | undefined) => {
    const system = result.systems[name];
    return [
      name,
      ...METRIC_NAMES.map((metric) => values?.[metric] ?? 0),
      system?.search_ms.p50 ?? 0,
      system?.search_ms.p95 ?? 0,
    ];
  };
  const sections = [
    `LoCoMo retrieval (${result.data.path}; ${result.data.conversations_used} of ${result.data.conversations} conversations, ${result.data.turns_used} turns) — ${result.machine.cpuModel}, ${result.machine.cores} cores, Node ${result.machine.node}, ${result.machine.date.slice(0, 10)}`,
    '',
    `Categories 1-4 (${Object.entries(result.questions)
      .filter(([category]) => category !== '5')
      .reduce((sum, [, count]) => sum + count, 0)} questions)`,
    markdownTable(
      headers,
      names.map((name) => row(name, result.systems[name]?.cats1_4)),
    ),
  ];
  for (const category of Object.keys(result.questions)) {
    sections.push(
      '',
      `Category ${category} (${CATEGORY_NAMES[category] ?? '?'}, ${result.questions[category]} questions)`,
      markdownTable(
        headers.slice(0, -2),
        names.map((name) => row(name, result.systems[name]?.categories[category]).slice(0, -2)),
      ),
    );
  }
  sections.push(
    '',
    `Embedding: ${result.embedding.computed} texts computed up front by ${result.embedding.embedder} at ${result.embedding.texts_per_s} texts/s ` +
      `(${result.embedding.loaded_from_cache} loaded from the embedding cache; ${result.embedding.computed_during_search} more during search). ` +
      `Ingest: ${JSON.stringify(result.ingest)}`,
  );
  return sections.join('\n');
}
