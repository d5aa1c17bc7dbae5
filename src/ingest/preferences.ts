/**
 * No-LLM preference recognition. Explicit first-person statements get a topic key so that a later statement
 * on the same topic supersedes the earlier one without an LLM:
 * - "I prefer X", "I (really) like / love / enjoy / hate / dislike / don't like X"  -> topic `pref:<head of X>`
 * - "I prefer X over / to / instead of / rather than Y"                             -> topic of X, also supersedes Y's
 * - "I prefer X for Y", "for Y I prefer X"                                         -> topic `pref:for:<head of Y>`
 * - "I switched / moved / changed from X to Y", "I no longer use X"                -> topic of Y, supersedes X's
 * - "my favo(u)rite N is X"                                                         -> topic `favorite:<N>`
 * - "from now on (always / never) X", "always X" / "never X" at the start           -> topic `instruction:<head of X>`
 * The head of a phrase is its last content word, singularised. This is a heuristic: it cannot tell that
 * "tabs" and "spaces" are the same topic unless the statement says so ("spaces over tabs", "from tabs to
 * spaces"). With an LLM configured, reconciliation decides instead.
 */
import { keywordTerms } from '../core/text.js';

/** A recognised preference statement. */
export interface PreferenceStatement {
  topic: string;
  /** Topics this statement replaces besides its own. */
  replacesTopics: string[];
}

const SUBJECT = String.raw`(?:^|[.!?;]\s+|,\s*)(?:(?:and|but|so|also|actually|honestly|well),?\s+)*`;
const LIKE = String.raw`(?:really\s+|definitely\s+|much\s+|strongly\s+|now\s+|also\s+|still\s+)*`;
const PATTERNS: Array<{
  regex: RegExp;
  build: (match: RegExpMatchArray) => PreferenceStatement | undefined;
}> = [
  {
    regex: new RegExp(
      String.raw`${SUBJECT}i(?:'ve| have)?\s+(?:switched|moved|changed|migrated)\s+from\s+(.+?)\s+to\s+(.+)`,
      'i',
    ),
    build: (match) => {
      const forClause = /^(.+?)\s+for\s+(.+)$/i.exec(match[2] ?? '');
      if (forClause) {
        const topic = topicOf('pref:for', forClause[2]);
        return withReplaced(topic, [topicOf('pref', match[1]), topicOf('pref', forClause[1])]);
      }
      return withReplaced(topicOf('pref', match[2]), [topicOf('pref', match[1])]);
    },
  },
  {
    regex: new RegExp(
      String.raw`${SUBJECT}i\s+(?:no longer|don't|do not)\s+use\s+(.+?)(?:\s+(?:anymore|any more))?(?:,|;|\.|$)`,
      'i',
    ),
    build: (match) => withReplaced(topicOf('pref', match[1]), []),
  },
  {
    regex: new RegExp(
      String.raw`${SUBJECT}my\s+favou?rite\s+([\p{L}\p{N}\s-]{1,40}?)\s+(?:is|are)\s+(.+)`,
      'iu',
    ),
    build: (match) => {
      const noun = headOf(match[1]);
      return noun ? { topic: `favorite:${noun}`, replacesTopics: [] } : undefined;
    },
  },
  {
    regex: new RegExp(
      String.raw`${SUBJECT}(?:from now on|going forward|in future|in the future),?\s+(?:please\s+)?(?:always\s+|never\s+)?(.+)`,
      'i',
    ),
    build: (match) => withReplaced(topicOf('instruction', match[1]), []),
  },
  {
    regex: new RegExp(
      String.raw`${SUBJECT}for\s+(.+?),\s*i\s+${LIKE}(?:prefer|like|love|want|use)\s+(.+)`,
      'i',
    ),
    build: (match) => withReplaced(topicOf('pref:for', match[1]), []),
  },
  {
    regex: new RegExp(
      String.raw`${SUBJECT}i\s+${LIKE}(?:prefer|like|love|enjoy|hate|dislike|can't stand|cannot stand|don't like|do not like|don't want|do not want|want|use)\s+(.+)`,
      'i',
    ),
    build: (match) => {
      const object = match[1] ?? '';
      const forClause = /^(.+?)\s+for\s+(.+)$/i.exec(object);
      if (forClause) return withReplaced(topicOf('pref:for', forClause[2]), []);
      const over = /^(.+?)\s+(?:over|to|instead of|rather than|more than)\s+(.+)$/i.exec(object);
      if (over) return withReplaced(topicOf('pref', over[1]), [topicOf('pref', over[2])]);
      return withReplaced(topicOf('pref', object), []);
    },
  },
];

/** Recognises an explicit first-person preference statement, or returns undefined. */
export function detectPreference(text: string): PreferenceStatement | undefined {
  const sentence = text.trim();
  if (sentence.length === 0 || sentence.length > 400 || sentence.endsWith('?')) return undefined;
  for (const pattern of PATTERNS) {
    const match = sentence.match(pattern.regex);
    if (match) {
      const statement = pattern.build(match);
      if (statement) return statement;
    }
  }
  return undefined;
}

function withReplaced(
  topic: string | undefined,
  replaced: Array<string | undefined>,
): PreferenceStatement | undefined {
  if (!topic) return undefined;
  const replacesTopics = replaced.filter((item): item is string => item !== undefined && item !== topic);
  return { topic, replacesTopics };
}

function topicOf(prefix: string, phrase: string | undefined): string | undefined {
  const head = headOf(phrase);
  return head ? `${prefix}:${head}` : undefined;
}

/** The last content word of a phrase (cut at the first clause boundary), singularised. */
function headOf(phrase: string | undefined): string | undefined {
  if (!phrase) return undefined;
  const clause =
    phrase.split(/[,;:.!?()]|\s(?:because|since|when|but|as|so|and then|which|that)\s/i)[0] ?? '';
  const terms = keywordTerms(clause).filter((term) => !FILLER.has(term));
  const last = terms[terms.length - 1];
  return last ? singular(last) : undefined;
}

const FILLER = new Set([
  'lot',
  'much',
  'really',
  'always',
  'never',
  'please',
  'use',
  'using',
  'anymore',
  'now',
]);

function singular(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}
