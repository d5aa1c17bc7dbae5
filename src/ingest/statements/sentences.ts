/**
 * Sentence and clause splitting for the no-LLM statement analysis. Offsets are kept so that what is stored is
 * always the user's own text, cut at sentence boundaries, never rewritten.
 */

/** A span of the original text. */
export interface Span {
  text: string;
  start: number;
  end: number;
}

const ABBREVIATIONS = new Set([
  'e.g',
  'i.e',
  'etc',
  'vs',
  'mr',
  'mrs',
  'ms',
  'dr',
  'st',
  'no',
  'approx',
  'cf',
  'ca',
]);

/**
 * Splits text into sentences: at line breaks, and after `.`, `!` or `?` (one or more) followed by white space,
 * except after a known abbreviation ("e.g.") or a single letter ("J. Smith"). Fenced code blocks are dropped
 * (code is not a statement about the user). Empty pieces are dropped.
 */
export function splitSentences(text: string): Span[] {
  const spans: Span[] = [];
  const withoutCode = text.replace(/```[\s\S]*?(?:```|$)/g, (block) => ' '.repeat(block.length));
  const boundary = /([.!?]+)(["')\]]*)(\s+)|\n+/g;
  let start = 0;
  const push = (end: number): void => {
    const raw = withoutCode.slice(start, end);
    // A list item's bullet ("- ", "* ", "1. ") is layout, not part of the sentence.
    const bullet = /^\s*(?:[-*\u2022]|\d+[.)])\s+/.exec(raw)?.[0].length ?? 0;
    const body = raw.slice(bullet);
    const leading = bullet + body.length - body.trimStart().length;
    const trimmed = body.trim();
    if (trimmed !== '')
      spans.push({ text: trimmed, start: start + leading, end: start + leading + trimmed.length });
  };
  for (const match of withoutCode.matchAll(boundary)) {
    const index = match.index ?? 0;
    if (match[0].startsWith('\n')) {
      push(index);
      start = index + match[0].length;
      continue;
    }
    const before = withoutCode.slice(start, index);
    const lastWord = /([\p{L}.]+)$/u.exec(before)?.[1]?.toLowerCase() ?? '';
    if (match[1] === '.' && (ABBREVIATIONS.has(lastWord) || /^\p{L}$/u.test(lastWord))) continue;
    const end = index + (match[1]?.length ?? 0) + (match[2]?.length ?? 0);
    push(end);
    start = end + (match[3]?.length ?? 0);
  }
  push(withoutCode.length);
  return spans;
}

/**
 * Splits a question sentence into clauses where a question clause follows a statement after a comma, semicolon,
 * dash or "but"/"so" ("I'm on PostgreSQL 15, how do I add a column?" -> ["I'm on PostgreSQL 15", "how do I add a
 * column?"]). `isQuestionStart` decides whether a clause opens a question. Returns the sentence itself when no
 * such split exists.
 */
export function splitQuestionClauses(sentence: Span, isQuestionStart: (clause: string) => boolean): Span[] {
  const separator = /\s*(?:[,;:]|\s[-\u2013\u2014]|\b(?:but|so|and))\s+/gi;
  for (const match of sentence.text.matchAll(separator)) {
    const index = match.index ?? 0;
    const rest = sentence.text.slice(index + match[0].length);
    if (index > 0 && isQuestionStart(rest)) {
      const head = sentence.text.slice(0, index).replace(/[\s,;:-]+$/, '');
      const tailStart = sentence.start + index + match[0].length;
      return [
        { text: head, start: sentence.start, end: sentence.start + head.length },
        { text: rest, start: tailStart, end: sentence.end },
      ];
    }
  }
  return [sentence];
}

/** Lower-case word tokens with apostrophes kept ("don't", "i'm"); curly apostrophes become straight ones. */
export function words(text: string): string[] {
  return (
    text
      .toLowerCase()
      .replace(/[\u2018\u2019\u02bc]/g, "'")
      .match(/[\p{L}\p{N}][\p{L}\p{N}'+#.-]*[\p{L}\p{N}+#]|[\p{L}\p{N}]/gu) ?? []
  );
}

/** True when `phrase` (one or more words) occurs in `tokens` at `index`. */
export function phraseAt(tokens: string[], index: number, phrase: string): boolean {
  const parts = phrase.split(' ');
  return parts.every((part, offset) => tokens[index + offset] === part);
}

/** The first index at or after `from` where one of `phrases` starts, with the phrase; or undefined. */
export function findPhrase(
  tokens: string[],
  phrases: readonly string[],
  from = 0,
): { index: number; phrase: string } | undefined {
  for (let index = from; index < tokens.length; index += 1) {
    for (const phrase of phrases) if (phraseAt(tokens, index, phrase)) return { index, phrase };
  }
  return undefined;
}
