/**
 * Loads LoCoMo-format conversations (the public LoCoMo JSON: `conversation.session_N` turn lists with
 * `session_N_date_time`, and `qa` items with `evidence` dia_ids and a `category`) and applies an audit file of
 * evidence corrections (`question_id` = `locomo_<conversation index>_qa<question index>`, `correct_evidence`).
 *
 * Evidence ids are normalised: lists written in one string (`"D8:6; D9:17"`) are split, `D:11:26` is read as
 * `D11:26`, and ids naming no turn of the conversation are dropped (and counted). A question left without
 * evidence is not scored.
 */
import { readFileSync } from 'node:fs';

/** One turn, ready to ingest as one memory. */
export interface LocomoTurn {
  /** `D<session>:<turn>`. */
  diaId: string;
  session: number;
  speaker: string;
  /** `"<speaker>: <text>"` plus ` [image: <caption>]` when the turn shared an image. */
  memoryText: string;
  /** The session's date and time as ISO-8601 (UTC; the data has no zone). */
  observedAt: string;
}

/** One scored question. */
export interface LocomoQuestion {
  /** `locomo_<conversation index>_qa<question index>` (the audit file's ids). */
  id: string;
  question: string;
  /** 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial. */
  category: number;
  /** Normalised evidence dia_ids (after the audit correction when one applies). */
  evidence: string[];
  /** True when the audit replaced the evidence. */
  corrected: boolean;
}

/** One conversation: its turns (in order) and its questions with evidence. */
export interface LocomoConversation {
  sampleId: string;
  speakers: [string, string];
  turns: LocomoTurn[];
  questions: LocomoQuestion[];
}

/** What loading did to the data, for the report. */
export interface LocomoLoadReport {
  conversations: number;
  turns: number;
  questions: number;
  /** Questions dropped because no evidence id names a turn. */
  questionsWithoutEvidence: number;
  /** Evidence ids that name no turn (dropped). */
  unknownEvidenceIds: string[];
  /** Audit entries whose corrected evidence replaced the cited one. */
  auditCorrections: number;
  /** Audit entries read. */
  auditEntries: number;
  /** Audit entries that did not match a question (wrong id or question text); ignored. */
  auditUnmatched: string[];
}

interface RawTurn {
  speaker?: unknown;
  dia_id?: unknown;
  text?: unknown;
  blip_caption?: unknown;
}

interface RawQuestion {
  question?: unknown;
  evidence?: unknown;
  category?: unknown;
}

interface RawAuditEntry {
  question_id?: unknown;
  question?: unknown;
  correct_evidence?: unknown;
}

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];

/** Parses LoCoMo's `"1:56 pm on 8 May, 2023"` as UTC. @throws Error on another shape. */
export function parseSessionDate(value: string): string {
  const match = /^(\d{1,2}):(\d{2})\s*(am|pm)\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})$/i.exec(
    value.trim(),
  );
  const month = MONTHS.indexOf((match?.[5] ?? '').toLowerCase());
  if (!match || month < 0) throw new Error(`unrecognised LoCoMo session date "${value}"`);
  let hour = Number(match[1]) % 12;
  if ((match[3] ?? '').toLowerCase() === 'pm') hour += 12;
  return new Date(Date.UTC(Number(match[6]), month, Number(match[4]), hour, Number(match[2]))).toISOString();
}

/** Splits and repairs raw evidence strings into `D<n>:<m>` ids (unknown shapes are returned as they are). */
export function normaliseEvidence(raw: unknown): string[] {
  if (!Array.isArray(raw)) return [];
  const ids: string[] = [];
  for (const item of raw) {
    if (typeof item !== 'string') continue;
    for (const part of item.split(/[;,\s]+/)) {
      if (part === '') continue;
      const match = /^D:?(\d+):(\d+)$/i.exec(part);
      ids.push(match ? `D${Number(match[1])}:${Number(match[2])}` : part);
    }
  }
  return [...new Set(ids)];
}

/** The session number of a dia_id (`D12:3` -> 12), or NaN. */
export function sessionOf(diaId: string): number {
  const match = /^D(\d+):\d+$/.exec(diaId);
  return match ? Number(match[1]) : Number.NaN;
}

/** Reads the data file (and the audit file when given). */
export function loadLocomo(options: { dataPath: string; auditPath?: string }): {
  conversations: LocomoConversation[];
  report: LocomoLoadReport;
} {
  const raw = JSON.parse(readFileSync(options.dataPath, 'utf8')) as unknown;
  if (!Array.isArray(raw))
    throw new Error(`${options.dataPath}: expected a JSON array of LoCoMo conversations`);
  const corrections = new Map<string, { question: string; evidence: string[] }>();
  let auditEntries = 0;
  if (options.auditPath) {
    const audit = JSON.parse(readFileSync(options.auditPath, 'utf8')) as unknown;
    if (!Array.isArray(audit))
      throw new Error(`${options.auditPath}: expected a JSON array of audit entries`);
    for (const entry of audit as RawAuditEntry[]) {
      auditEntries += 1;
      if (typeof entry.question_id === 'string' && Array.isArray(entry.correct_evidence)) {
        corrections.set(entry.question_id, {
          question: typeof entry.question === 'string' ? entry.question : '',
          evidence: normaliseEvidence(entry.correct_evidence),
        });
      }
    }
  }
  const report: LocomoLoadReport = {
    conversations: 0,
    turns: 0,
    questions: 0,
    questionsWithoutEvidence: 0,
    unknownEvidenceIds: [],
    auditCorrections: 0,
    auditEntries,
    auditUnmatched: [],
  };
  const matchedAudit = new Set<string>();
  const conversations = (raw as Array<Record<string, unknown>>).map((item, conversationIndex) => {
    const conversation = (item.conversation ?? {}) as Record<string, unknown>;
    const sampleId =
      typeof item.sample_id === 'string' ? item.sample_id : `conversation-${conversationIndex}`;
    const turns: LocomoTurn[] = [];
    const sessionNumbers = Object.keys(conversation)
      .map((key) => /^session_(\d+)$/.exec(key)?.[1])
      .filter((value): value is string => value !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const session of sessionNumbers) {
      const list = conversation[`session_${session}`];
      const date = conversation[`session_${session}_date_time`];
      if (!Array.isArray(list) || typeof date !== 'string') continue;
      const observedAt = parseSessionDate(date);
      for (const turn of list as RawTurn[]) {
        if (typeof turn.dia_id !== 'string' || typeof turn.text !== 'string') continue;
        const speaker = typeof turn.speaker === 'string' ? turn.speaker : 'unknown';
        const caption = typeof turn.blip_caption === 'string' ? ` [image: ${turn.blip_caption}]` : '';
        turns.push({
          diaId: normaliseEvidence([turn.dia_id])[0] ?? turn.dia_id,
          session,
          speaker,
          memoryText: `${speaker}: ${turn.text}${caption}`,
          observedAt,
        });
      }
    }
    const known = new Set(turns.map((turn) => turn.diaId));
    const questions: LocomoQuestion[] = [];
    const qa = Array.isArray(item.qa) ? (item.qa as RawQuestion[]) : [];
    qa.forEach((entry, questionIndex) => {
      if (typeof entry.question !== 'string' || typeof entry.category !== 'number') return;
      const id = `locomo_${conversationIndex}_qa${questionIndex}`;
      let evidence = normaliseEvidence(entry.evidence);
      let corrected = false;
      const correction = corrections.get(id);
      if (correction && correction.question === entry.question) {
        matchedAudit.add(id);
        if (correction.evidence.join() !== evidence.join()) {
          evidence = correction.evidence;
          corrected = true;
          report.auditCorrections += 1;
        }
      }
      const unknown = evidence.filter((diaId) => !known.has(diaId));
      report.unknownEvidenceIds.push(...unknown.map((diaId) => `${sampleId}/${diaId}`));
      evidence = evidence.filter((diaId) => known.has(diaId));
      if (evidence.length === 0) {
        report.questionsWithoutEvidence += 1;
        return;
      }
      questions.push({ id, question: entry.question, category: entry.category, evidence, corrected });
    });
    const speakers: [string, string] = [
      typeof conversation.speaker_a === 'string' ? conversation.speaker_a : 'A',
      typeof conversation.speaker_b === 'string' ? conversation.speaker_b : 'B',
    ];
    report.conversations += 1;
    report.turns += turns.length;
    report.questions += questions.length;
    return { sampleId, speakers, turns, questions };
  });
  report.auditUnmatched = [...corrections.keys()].filter((id) => !matchedAudit.has(id));
  return { conversations, report };
}
