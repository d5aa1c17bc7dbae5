/**
 * Secret redaction: API keys, tokens, passwords and private keys in messages are replaced with
 * `[REDACTED:<kind>]` before anything is stored (memories, history, the ingestion queue) or sent to an LLM.
 *
 * The built-in pattern list ({@link SECRET_PATTERNS}) covers: Anthropic, OpenAI, AWS, GitHub, GitLab, Slack
 * (tokens and webhook URLs), Google (API keys and OAuth access tokens), Stripe, npm, Hugging Face, SendGrid and
 * DigitalOcean keys; JWTs; PEM and PGP private key blocks; `Authorization: Bearer` and `Authorization: Basic`
 * credentials; credentials inside URLs (`scheme://user:password@host`); assignments such as `password=...`,
 * `api_key: ...`, `DB_PASSWORD=...` (env style, any prefix), `"password": "..."` (JSON/YAML keys) and
 * `AccountKey=...` (connection strings); and statements such as "my password is ..." or "the password for my
 * bank is ...". Add patterns with the `redaction.patterns` option of `createMemory`; disable with
 * `redaction: false` (not recommended). Redaction is a safety net, not a guarantee: a secret in an unknown format
 * is stored as said.
 */

/** A named secret pattern. `group` (optional) redacts only that capture group, keeping the rest. */
export interface SecretPattern {
  kind: string;
  pattern: RegExp;
  /** Capture group holding the secret; the whole match when absent. */
  group?: number;
}

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    kind: 'private_key',
    pattern:
      /-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|$)/g,
  },
  { kind: 'anthropic_key', pattern: /\bsk-ant-[A-Za-z0-9_-]{16,}/g },
  { kind: 'stripe_key', pattern: /\b(?:sk|rk|pk)[_-](?:live|test)[_-][0-9A-Za-z]{16,}/g },
  { kind: 'openai_key', pattern: /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{20,}/g },
  { kind: 'aws_access_key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g },
  { kind: 'github_token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g },
  { kind: 'gitlab_token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g },
  { kind: 'slack_token', pattern: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g },
  {
    kind: 'slack_webhook',
    pattern: /\bhttps:\/\/hooks\.slack\.com\/(?:services|workflows)\/[A-Za-z0-9/_-]+/g,
  },
  { kind: 'google_api_key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/g },
  { kind: 'google_oauth_token', pattern: /\bya29\.[0-9A-Za-z_-]{20,}/g },
  { kind: 'npm_token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g },
  { kind: 'huggingface_token', pattern: /\bhf_[A-Za-z0-9]{30,}\b/g },
  { kind: 'sendgrid_key', pattern: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g },
  { kind: 'digitalocean_token', pattern: /\bdo[opr]_v1_[a-f0-9]{64}\b/g },
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g },
  { kind: 'bearer_token', pattern: /\b(Bearer\s+)([A-Za-z0-9._~+/-]{16,}=*)/gi, group: 2 },
  {
    kind: 'basic_auth',
    pattern: /\b(Authorization\s*:\s*Basic\s+)([A-Za-z0-9+/]{8,}={0,2})/gi,
    group: 2,
  },
  // Quantifiers are bounded throughout: unbounded runs before a literal make a pattern quadratic on long
  // hostile input (20,000 characters of "a-a-a-..." took 0.3 s per pattern).
  {
    kind: 'url_credentials',
    pattern: /\b([a-z][a-z0-9+.-]{0,30}:\/\/[^\s:/@]{1,256}:)([^\s@/]{1,256})(@)/gi,
    group: 2,
  },
  // Both assignment patterns accept a name with any prefix (DB_PASSWORD, PGPASSWORD, x-api-key, AccountKey) and
  // a quoted name ("password": ..., 'api_key': ...).
  {
    // `password=anything`: after "=" every value is taken as a secret.
    kind: 'secret_assignment',
    pattern:
      /\b([A-Za-z0-9_.-]{0,40}?(?:password|passwd|passphrase|pwd|secret|secret[_\s-]?key|client[_-]?secret|token|access[_-]?token|auth[_-]?token|refresh[_-]?token|api[_\s-]?key|apikey|private[_-]?key|access[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|aws_secret_access_key)["']?\s*=\s*)("[^"\n]+"|'[^'\n]+'|[^\s,;"'}]+)/gi,
    group: 2,
  },
  {
    // `api_key: value`: after ":" only quoted values or values that look like secrets (6+ characters with a digit
    // or symbol), so prose such as "my secret: the garden" is left alone.
    kind: 'secret_assignment',
    pattern:
      /\b([A-Za-z0-9_.-]{0,40}?(?:password|passwd|passphrase|pwd|secret|secret[_\s-]?key|client[_-]?secret|token|access[_-]?token|auth[_-]?token|refresh[_-]?token|api[_\s-]?key|apikey|private[_-]?key|access[_-]?key|account[_-]?key|shared[_-]?access[_-]?key|aws_secret_access_key)["']?\s*:\s*)("[^"\n]+"|'[^'\n]+'|(?=[^\s,;]*[\d\W_])[^\s,;"'}]{6,})/gi,
    group: 2,
  },
  {
    kind: 'secret_statement',
    // "my password is X", "the password for my bank is X" (up to 40 characters between name and verb).
    pattern:
      /\b((?:password|passcode|passphrase|pin|api key|secret key|token)(?:\s+(?:for|to|of|on|at)\s+[^\n,;:.]{1,40}?)?\s+(?:is|was)\s*:?\s+)("[^"\n]+"|'[^'\n]+'|[^\s,;]+)/gi,
    group: 2,
  },
];

/** Result of {@link redactSecrets}. */
export interface Redaction {
  text: string;
  /** Kinds of secrets found, in order of appearance (one entry per occurrence). */
  found: string[];
}

/** Replaces secrets in `text` with `[REDACTED:<kind>]`. */
export function redactSecrets(text: string, patterns: readonly SecretPattern[] = SECRET_PATTERNS): Redaction {
  const found: string[] = [];
  let result = text;
  for (const { kind, pattern, group } of patterns) {
    const regex = new RegExp(
      pattern.source,
      pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
    );
    result = result.replace(regex, (...args: unknown[]) => {
      const match = String(args[0]);
      if (match.includes('[REDACTED:')) return match;
      found.push(kind);
      if (group === undefined) return `[REDACTED:${kind}]`;
      const groups = args.slice(1, -2).map((item) => (item === undefined ? '' : String(item)));
      return groups.map((part, index) => (index + 1 === group ? `[REDACTED:${kind}]` : part)).join('');
    });
  }
  return { text: result, found };
}

/**
 * The tag that keeps text out of memory: whatever a user writes between `<private>` and `</private>` is removed
 * before anything is stored (memories, history, the ingestion queue) or sent to an LLM, in every ingestion path
 * (`add`, `enqueue`, `update`, `importMemories`; so the Agent SDK integration, the Claude Code plugin, the CLI,
 * the HTTP and MCP servers alike).
 *
 * Rules, privacy first:
 * - Tags are matched case-insensitively and may carry attributes or spaces (`<Private>`, `<private reason="x">`,
 *   `</private >`); `<privateer>` is not a tag.
 * - Tags nest: `<private>a <private>b</private> c</private>` removes all of `a b c`.
 * - An unclosed `<private>` hides everything after it, to the end of the text.
 * - A `</private>` with no opening tag is removed (the text around it is kept).
 * - Where text was removed between two words, one space is left, so the words do not run together.
 * Unlike secret redaction this cannot be switched off (`redaction: false` does not affect it).
 */
export const PRIVATE_TAG = 'private';

const PRIVATE_TAG_PATTERN = /<\s*(\/?)\s*private\b[^<>]{0,200}>/gi;

/** Removes every `<private>...</private>` span of `text` (see {@link PRIVATE_TAG} for the rules). */
export function stripPrivate(text: string): string {
  if (!/<\s*\/?\s*private\b/i.test(text)) return text;
  const kept: string[] = [];
  let depth = 0;
  let last = 0;
  for (const match of text.matchAll(PRIVATE_TAG_PATTERN)) {
    const start = match.index;
    if (depth === 0) kept.push(text.slice(last, start));
    if (match[1] === '/') depth = Math.max(0, depth - 1);
    else depth += 1;
    last = start + match[0].length;
  }
  if (depth === 0) kept.push(text.slice(last));
  return kept.reduce((joined, part) => joinAround(joined, part));
}

/** Joins the text kept on both sides of a removed span: one space between words, none before punctuation. */
function joinAround(left: string, right: string): string {
  const before = left.replace(/[ \t]+$/, '');
  const after = right.replace(/^[ \t]+/, '');
  if (before === '' || after === '') return before + after;
  const separated = /\s$/.test(before) || /^[\s.,;:!?)\]}]/.test(after);
  return separated ? before + after : `${before} ${after}`;
}
