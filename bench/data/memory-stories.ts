/**
 * Memory stories: a labelled multi-session benchmark set for mneme's memory layer in front of a coding agent.
 *
 * Each story is a few earlier sessions, one day apart (each one user prompt and the agent's scripted reply),
 * then a final session prompt. The assertion is on the memory block the agent is given at the start of the
 * final session:
 *
 * - `expectIn`: distinctive substrings (case-insensitive) of what the USER wrote that must be in the block, one per
 *   current fact that matters (standing preferences, instructions, identity facts, and facts clearly relevant to
 *   the final prompt). The no-LLM mode stores the user's own sentences, so these are the user's words.
 * - `expectOut`: substrings that must NOT be in the block: stale values, assistant guesses and paraphrases,
 *   questions, secrets, other users' facts, small talk. Each is chosen to occur only in the unwanted text.
 * - `llmExpectIn` / `llmExpectOut`: the same for the scripted-LLM variant, whose memory holds the `facts` texts
 *   (what a good LLM extractor would take from each session: only what the user stated or confirmed).
 *   They default to `expectIn` / `expectOut`.
 *
 * Final prompts are realistic tasks that do not repeat the facts' words, so a relevance-only search would miss
 * the standing preferences.
 *
 * The stories were written by the mneme authors, by hand, from how developers talk to a coding agent, without
 * reference to any particular rule set. They are ours and may be committed and reused.
 */

export type StoryTheme =
  | 'standing_under_flood'
  | 'changed_preference'
  | 'reversed_instruction'
  | 'changed_fact'
  | 'question'
  | 'assistant_guess'
  | 'assistant_paraphrase'
  | 'low_signal'
  | 'secret'
  | 'third_party'
  | 'two_users'
  | 'mixed';

/** What a good LLM extractor would take from one session's user prompt (for the scripted-LLM variant). */
export interface StoryFact {
  /** Self-contained, names the user: "The user prefers tabs for indentation." */
  text: string;
  kind: 'preference' | 'user_fact' | 'other_fact' | 'event' | 'instruction';
  /** Short lowercase key shared by facts that contradict each other ("indentation", "home city"). */
  topic: string;
  /** When this fact replaces an earlier fact of the story: that fact's exact `text`. */
  replaces?: string;
}

export interface StorySession {
  /** Defaults to the story's userId. */
  userId?: string;
  /** What the user types (one message; may hold several sentences, a question, small talk). */
  prompt: string;
  /** What the agent answers (scripted fake model). May contain guesses, paraphrases, questions. */
  reply: string;
  /** What an LLM extractor returns for this session (empty array when nothing durable was said). */
  facts: StoryFact[];
}

export interface MemoryStory {
  /** 's01' ... */
  id: string;
  theme: StoryTheme;
  /** One line. */
  title: string;
  userId: string;
  /** 1..6 earlier sessions, in time order, one day apart. */
  sessions: StorySession[];
  /** The prompt of the last session (its user is `finalUserId ?? userId`). */
  finalPrompt: string;
  finalUserId?: string;
  /** Distinctive substrings (case-insensitive) of the user's own words that must appear in the final block. */
  expectIn: string[];
  /** Substrings that must NOT appear in the final block. */
  expectOut: string[];
  /** Same as expectIn/expectOut for the LLM variant (texts are the StoryFact texts); default to expectIn/expectOut. */
  llmExpectIn?: string[];
  llmExpectOut?: string[];
}

export const MEMORY_STORIES: readonly MemoryStory[] = [
  // ---------------------------------------------------------------- standing_under_flood
  {
    id: 's01',
    theme: 'standing_under_flood',
    title: 'Tabs preference survives one long prompt of billing-parser facts',
    userId: 'maya',
    sessions: [
      {
        prompt: 'I prefer tabs for indentation in all my code.',
        reply: 'Noted, I will indent with tabs.',
        facts: [
          {
            text: 'The user prefers tabs for indentation in all code.',
            kind: 'preference',
            topic: 'indentation',
          },
        ],
      },
      {
        prompt:
          'Some context on the billing parser before we touch it. It lives in src/billing/parser.ts. It reads the CSV exports that finance downloads from Stripe every night. Amounts are stored as integer cents, never floats. The currency column is an ISO 4217 code. Invoices with a negative total are credit notes and go to a separate ledger. The parser skips rows whose status is "void". Dates in the export are UTC and we keep them that way. Customer ids look like cus_ followed by 14 characters. The tax column can be empty for customers outside the EU. We dedupe rows on the invoice number. The parser must finish in under a minute for 200k rows. Errors go to the billing-alerts Slack channel.',
        reply:
          'Thanks, that is a clear picture of the parser: integer cents, ISO currency codes, credit notes split out, void rows skipped, dedupe on invoice number.',
        facts: [
          {
            text: 'The billing parser lives in src/billing/parser.ts.',
            kind: 'other_fact',
            topic: 'billing parser location',
          },
          {
            text: 'The billing parser reads nightly CSV exports that finance downloads from Stripe.',
            kind: 'other_fact',
            topic: 'billing parser input',
          },
          {
            text: 'The billing parser stores amounts as integer cents, never floats.',
            kind: 'other_fact',
            topic: 'billing amounts',
          },
          {
            text: 'The billing export currency column is an ISO 4217 code.',
            kind: 'other_fact',
            topic: 'billing currency',
          },
          {
            text: 'Invoices with a negative total are credit notes and go to a separate ledger.',
            kind: 'other_fact',
            topic: 'credit notes',
          },
          {
            text: 'The billing parser skips rows whose status is "void".',
            kind: 'other_fact',
            topic: 'void rows',
          },
          {
            text: 'Dates in the billing export are UTC and stay UTC.',
            kind: 'other_fact',
            topic: 'billing dates',
          },
          {
            text: 'Customer ids in the billing export look like cus_ followed by 14 characters.',
            kind: 'other_fact',
            topic: 'customer ids',
          },
          {
            text: 'The billing tax column can be empty for customers outside the EU.',
            kind: 'other_fact',
            topic: 'billing tax',
          },
          {
            text: 'The billing parser dedupes rows on the invoice number.',
            kind: 'other_fact',
            topic: 'billing dedupe',
          },
          {
            text: 'The billing parser must finish in under a minute for 200k rows.',
            kind: 'other_fact',
            topic: 'billing performance',
          },
          {
            text: 'Billing parser errors go to the billing-alerts Slack channel.',
            kind: 'other_fact',
            topic: 'billing errors',
          },
        ],
      },
    ],
    finalPrompt: 'Add support for the new discount_code column in the invoice importer.',
    expectIn: ['tabs for indentation'],
    expectOut: [],
  },
  {
    id: 's02',
    theme: 'standing_under_flood',
    title: 'Commit-message instruction survives three sessions about the search indexer',
    userId: 'tom',
    sessions: [
      {
        prompt: 'Always write commit messages in the imperative mood.',
        reply: 'Understood, commit messages will read like "Fix X", not "Fixed X".',
        facts: [
          {
            text: 'The user wants commit messages written in the imperative mood.',
            kind: 'instruction',
            topic: 'commit message style',
          },
        ],
      },
      {
        prompt:
          'The search indexer runs as a Kubernetes CronJob every 15 minutes. It pulls changed products from the catalog database. Each run writes to a fresh Elasticsearch index and then swaps the alias. We keep the last three indices for rollback. Product descriptions are truncated to 2,000 characters before indexing.',
        reply: 'Got it: CronJob every 15 minutes, alias swap, three indices kept.',
        facts: [
          {
            text: 'The search indexer runs as a Kubernetes CronJob every 15 minutes.',
            kind: 'other_fact',
            topic: 'indexer schedule',
          },
          {
            text: 'The search indexer pulls changed products from the catalog database.',
            kind: 'other_fact',
            topic: 'indexer source',
          },
          {
            text: 'Each indexer run writes a fresh Elasticsearch index and then swaps the alias.',
            kind: 'other_fact',
            topic: 'indexer alias swap',
          },
          {
            text: 'The last three search indices are kept for rollback.',
            kind: 'other_fact',
            topic: 'index retention',
          },
          {
            text: 'Product descriptions are truncated to 2,000 characters before indexing.',
            kind: 'other_fact',
            topic: 'description truncation',
          },
        ],
      },
      {
        prompt:
          'More on the indexer. The shards are sized for about 30 GB each. When a run fails halfway, the alias stays on the old index. The synonyms file is in config/search/synonyms.txt. Indexing is throttled to 500 documents per bulk request.',
        reply: 'Thanks. So a failed run is safe because the alias only moves at the end.',
        facts: [
          { text: 'Search shards are sized for about 30 GB each.', kind: 'other_fact', topic: 'shard size' },
          {
            text: 'When an indexer run fails halfway, the alias stays on the old index.',
            kind: 'other_fact',
            topic: 'indexer failure',
          },
          {
            text: 'The search synonyms file is config/search/synonyms.txt.',
            kind: 'other_fact',
            topic: 'synonyms file',
          },
          {
            text: 'Indexing is throttled to 500 documents per bulk request.',
            kind: 'other_fact',
            topic: 'bulk size',
          },
        ],
      },
      {
        prompt:
          'Last bit: yesterday a run left a half-built index behind and nobody cleaned it up. The cleanup step only deletes indices older than a week. We page the search on-call when two runs in a row fail.',
        reply: 'That half-built index sounds like the cleanup skipped it because it was too new.',
        facts: [
          {
            text: 'Yesterday an indexer run left a half-built index behind that was not cleaned up.',
            kind: 'event',
            topic: 'orphaned index',
          },
          {
            text: 'The indexer cleanup only deletes indices older than a week.',
            kind: 'other_fact',
            topic: 'index cleanup',
          },
          {
            text: 'The search on-call is paged when two indexer runs in a row fail.',
            kind: 'other_fact',
            topic: 'indexer paging',
          },
        ],
      },
    ],
    finalPrompt:
      'Fix the cleanup so orphaned half-built indices get removed, then get the change ready for me to push.',
    expectIn: ['imperative mood'],
    expectOut: [],
  },
  {
    id: 's03',
    theme: 'standing_under_flood',
    title: 'Database version stays visible after twenty notification-service details',
    userId: 'ines',
    sessions: [
      {
        prompt: "I'm on PostgreSQL 15 in production.",
        reply: 'Good to know, I will stick to features available in PostgreSQL 15.',
        facts: [
          {
            text: 'The user runs PostgreSQL 15 in production.',
            kind: 'user_fact',
            topic: 'postgres version',
          },
        ],
      },
      {
        prompt:
          "Here is everything about the notifications service. It is a Node service in services/notify. It consumes events from the user-events Kafka topic. Every event becomes one row in the notifications table. Rows have a user_id, a kind, a payload jsonb and a created_at. Push notifications go through Firebase. Emails go through Postmark. SMS is only for security alerts. Users can mute each kind separately. Mutes live in the notification_prefs table. We never send more than five pushes per user per hour. Digest emails go out at 8am in the user's local time. The table has about 400 million rows. Rows older than 90 days are archived to S3. The service runs three replicas. Retries use exponential backoff up to six attempts. Failed sends land in a dead-letter topic. The admin UI reads from a replica. There is a partial index on unread rows. The payload schema is versioned with a v field. We want read receipts next quarter.",
        reply:
          'That is a lot of useful detail: Kafka in, one row per event, Firebase/Postmark out, 90-day archive, partial index on unread rows.',
        facts: [
          {
            text: 'The notifications service is a Node service in services/notify.',
            kind: 'other_fact',
            topic: 'notify location',
          },
          {
            text: 'The notifications service consumes events from the user-events Kafka topic.',
            kind: 'other_fact',
            topic: 'notify input',
          },
          {
            text: 'Every event becomes one row in the notifications table.',
            kind: 'other_fact',
            topic: 'notifications table',
          },
          {
            text: 'Notification rows have user_id, kind, payload (jsonb) and created_at columns.',
            kind: 'other_fact',
            topic: 'notifications columns',
          },
          { text: 'Push notifications go through Firebase.', kind: 'other_fact', topic: 'push provider' },
          { text: 'Notification emails go through Postmark.', kind: 'other_fact', topic: 'email provider' },
          { text: 'SMS is used only for security alerts.', kind: 'other_fact', topic: 'sms usage' },
          { text: 'Users can mute each notification kind separately.', kind: 'other_fact', topic: 'mutes' },
          {
            text: 'Notification mutes live in the notification_prefs table.',
            kind: 'other_fact',
            topic: 'mutes table',
          },
          {
            text: 'No user gets more than five pushes per hour.',
            kind: 'other_fact',
            topic: 'push rate limit',
          },
          {
            text: "Digest emails go out at 8am in the user's local time.",
            kind: 'other_fact',
            topic: 'digest time',
          },
          {
            text: 'The notifications table has about 400 million rows.',
            kind: 'other_fact',
            topic: 'notifications size',
          },
          {
            text: 'Notification rows older than 90 days are archived to S3.',
            kind: 'other_fact',
            topic: 'archiving',
          },
          {
            text: 'The notifications service runs three replicas.',
            kind: 'other_fact',
            topic: 'notify replicas',
          },
          {
            text: 'Notification retries use exponential backoff up to six attempts.',
            kind: 'other_fact',
            topic: 'notify retries',
          },
          {
            text: 'Failed notification sends land in a dead-letter topic.',
            kind: 'other_fact',
            topic: 'dead letter',
          },
          { text: 'The notifications admin UI reads from a replica.', kind: 'other_fact', topic: 'admin ui' },
          {
            text: 'The notifications table has a partial index on unread rows.',
            kind: 'other_fact',
            topic: 'unread index',
          },
          {
            text: 'The notification payload schema is versioned with a v field.',
            kind: 'other_fact',
            topic: 'payload version',
          },
          {
            text: 'The team wants notification read receipts next quarter.',
            kind: 'other_fact',
            topic: 'read receipts',
          },
        ],
      },
    ],
    finalPrompt: 'Write the migration that adds a read_at timestamp to the notifications table.',
    expectIn: ['PostgreSQL 15'],
    expectOut: [],
  },
  {
    id: 's04',
    theme: 'standing_under_flood',
    title: 'Short-answer preference survives two sessions on the mobile release pipeline',
    userId: 'kenji',
    sessions: [
      {
        prompt: "Keep your answers short, I don't need long explanations.",
        reply: 'Will do.',
        facts: [
          {
            text: 'The user wants the agent to keep answers short, without long explanations.',
            kind: 'instruction',
            topic: 'answer length',
          },
        ],
      },
      {
        prompt:
          'Our mobile release pipeline: builds run on Bitrise. The Android app uses Gradle 8 with the Kotlin DSL. Release builds are signed with a key stored in Bitrise secrets. Internal testers get builds through Firebase App Distribution. The iOS app is built with Xcode 15 on the same pipeline. Version codes come from the build number.',
        reply:
          'Understood: Bitrise, Gradle 8 Kotlin DSL, Firebase App Distribution for testers, Xcode 15 for iOS.',
        facts: [
          { text: 'The mobile builds run on Bitrise.', kind: 'other_fact', topic: 'mobile ci' },
          {
            text: 'The Android app uses Gradle 8 with the Kotlin DSL.',
            kind: 'other_fact',
            topic: 'android build',
          },
          {
            text: 'Android release builds are signed with a key stored in Bitrise secrets.',
            kind: 'other_fact',
            topic: 'android signing',
          },
          {
            text: 'Internal testers get mobile builds through Firebase App Distribution.',
            kind: 'other_fact',
            topic: 'tester distribution',
          },
          {
            text: 'The iOS app is built with Xcode 15 on the same pipeline.',
            kind: 'other_fact',
            topic: 'ios build',
          },
          {
            text: 'Mobile version codes come from the build number.',
            kind: 'other_fact',
            topic: 'version codes',
          },
        ],
      },
      {
        prompt:
          'A few more pipeline details. We bumped the Android Gradle Plugin to 8.3 on Monday. Play Store uploads go to the internal track first. Promotion to production is manual. ProGuard rules live in app/proguard-rules.pro. The minSdk is 26.',
        reply: 'Thanks, noted the AGP 8.3 bump on Monday.',
        facts: [
          {
            text: 'The Android Gradle Plugin was bumped to 8.3 on Monday.',
            kind: 'event',
            topic: 'agp version',
          },
          {
            text: 'Play Store uploads go to the internal track first.',
            kind: 'other_fact',
            topic: 'play track',
          },
          {
            text: 'Promotion of mobile releases to production is manual.',
            kind: 'other_fact',
            topic: 'promotion',
          },
          { text: 'ProGuard rules live in app/proguard-rules.pro.', kind: 'other_fact', topic: 'proguard' },
          { text: 'The Android minSdk is 26.', kind: 'other_fact', topic: 'min sdk' },
        ],
      },
    ],
    finalPrompt:
      'The Android release build started failing at the R8 step since the plugin upgrade. What is going on?',
    expectIn: ['keep your answers short'],
    expectOut: [],
    llmExpectIn: ['keep answers short'],
    llmExpectOut: [],
  },
  // ---------------------------------------------------------------- changed_preference
  {
    id: 's05',
    theme: 'changed_preference',
    title: 'Tabs to spaces',
    userId: 'maya',
    sessions: [
      {
        prompt: 'I use tabs for indentation in every project.',
        reply: 'Noted, tabs it is.',
        facts: [
          {
            text: 'The user uses tabs for indentation in every project.',
            kind: 'preference',
            topic: 'indentation',
          },
        ],
      },
      {
        prompt: 'I switched from tabs to spaces, two of them. The whole team is on the same config now.',
        reply: 'Got it, two-space indentation from here on.',
        facts: [
          {
            text: 'The user switched from tabs to spaces (two spaces) for indentation.',
            kind: 'preference',
            topic: 'indentation',
            replaces: 'The user uses tabs for indentation in every project.',
          },
        ],
      },
    ],
    finalPrompt: 'Write the new config loader module.',
    expectIn: ['spaces'],
    expectOut: ['tabs for indentation in every project'],
  },
  {
    id: 's06',
    theme: 'changed_preference',
    title: 'Detailed answers become short answers',
    userId: 'raj',
    sessions: [
      {
        prompt: 'I like detailed answers with the reasoning spelled out.',
        reply: 'Sure, I will walk through my reasoning.',
        facts: [
          {
            text: 'The user likes detailed answers with the reasoning spelled out.',
            kind: 'preference',
            topic: 'answer length',
          },
        ],
      },
      {
        prompt: "These days I'd rather have short answers: just the code and one line of why.",
        reply: 'Understood.',
        facts: [
          {
            text: 'The user now prefers short answers: just the code and one line of why.',
            kind: 'preference',
            topic: 'answer length',
            replaces: 'The user likes detailed answers with the reasoning spelled out.',
          },
        ],
      },
    ],
    finalPrompt: 'Refactor the retry helper to use exponential backoff with jitter.',
    expectIn: ['short answers'],
    expectOut: ['reasoning spelled out'],
  },
  {
    id: 's07',
    theme: 'changed_preference',
    title: 'Editor changed from Neovim to VS Code, with an unrelated session between',
    userId: 'lena',
    sessions: [
      {
        prompt: 'My editor is Neovim.',
        reply: 'Good, I will give keybindings and config in Lua when it matters.',
        facts: [{ text: "The user's editor is Neovim.", kind: 'preference', topic: 'editor' }],
      },
      {
        prompt: 'Our API service is written in Go 1.22.',
        reply: 'Okay, Go 1.22.',
        facts: [
          {
            text: "The user's API service is written in Go 1.22.",
            kind: 'other_fact',
            topic: 'api language',
          },
        ],
      },
      {
        prompt: "Actually I'm on VS Code now, the dev containers won me over.",
        reply: 'Nice, dev containers are handy.',
        facts: [
          {
            text: 'The user now uses VS Code as their editor.',
            kind: 'preference',
            topic: 'editor',
            replaces: "The user's editor is Neovim.",
          },
        ],
      },
    ],
    finalPrompt: 'Set up step-through debugging for the API service.',
    expectIn: ['VS Code', 'Go 1.22'],
    expectOut: ['Neovim'],
  },
  {
    id: 's08',
    theme: 'changed_preference',
    title: 'Reply language changes twice: English, German, then French',
    userId: 'claire',
    sessions: [
      {
        prompt: 'Replies in English please.',
        reply: 'Of course.',
        facts: [{ text: 'The user wants replies in English.', kind: 'instruction', topic: 'reply language' }],
      },
      {
        prompt: 'Scratch that, reply in German.',
        reply: 'Alles klar, ab jetzt auf Deutsch.',
        facts: [
          {
            text: 'The user wants replies in German.',
            kind: 'instruction',
            topic: 'reply language',
            replaces: 'The user wants replies in English.',
          },
        ],
      },
      {
        prompt: "Let's go with French for replies after all, my team reads them too.",
        reply: "D'accord, je répondrai en français.",
        facts: [
          {
            text: 'The user wants replies in French.',
            kind: 'instruction',
            topic: 'reply language',
            replaces: 'The user wants replies in German.',
          },
        ],
      },
    ],
    finalPrompt: 'Explain what the flaky test in the payments suite is doing.',
    expectIn: ['French'],
    expectOut: ['German', 'Replies in English please'],
    llmExpectOut: ['German', 'in English'],
  },
  // ---------------------------------------------------------------- reversed_instruction
  {
    id: 's09',
    theme: 'reversed_instruction',
    title: 'Emoji in commit messages: always, then stop',
    userId: 'sam',
    sessions: [
      {
        prompt: 'Always add an emoji at the start of commit messages, like gitmoji.',
        reply: 'Sure, I will prefix commits with a gitmoji.',
        facts: [
          {
            text: 'The user wants an emoji at the start of every commit message (gitmoji style).',
            kind: 'instruction',
            topic: 'commit emoji',
          },
        ],
      },
      {
        prompt: 'Stop adding emojis to commit messages, the release tooling chokes on them.',
        reply: 'Okay, plain commit messages from now on.',
        facts: [
          {
            text: 'The user wants no emojis in commit messages because the release tooling chokes on them.',
            kind: 'instruction',
            topic: 'commit emoji',
            replaces: 'The user wants an emoji at the start of every commit message (gitmoji style).',
          },
        ],
      },
    ],
    finalPrompt: 'Commit the rate limiter changes we just made.',
    expectIn: ['stop adding emojis'],
    expectOut: ['like gitmoji'],
    llmExpectIn: ['no emojis'],
    llmExpectOut: ['gitmoji'],
  },
  {
    id: 's10',
    theme: 'reversed_instruction',
    title: 'Full test suite before finishing, then not any more',
    userId: 'priya',
    sessions: [
      {
        prompt: "Always run the full test suite before you tell me you're done.",
        reply: 'Will do, I will run everything before wrapping up.',
        facts: [
          {
            text: 'The user wants the full test suite run before the agent reports it is done.',
            kind: 'instruction',
            topic: 'test runs',
          },
        ],
      },
      {
        prompt: "Don't run the full suite anymore, it takes 40 minutes. Just test the affected package.",
        reply: 'Makes sense, I will scope test runs to the package I change.',
        facts: [
          {
            text: 'The user wants only the affected package tested, not the full suite (it takes 40 minutes).',
            kind: 'instruction',
            topic: 'test runs',
            replaces: 'The user wants the full test suite run before the agent reports it is done.',
          },
        ],
      },
    ],
    finalPrompt: 'Fix the off-by-one in the pagination helper in packages/api-client.',
    expectIn: ['affected package'],
    expectOut: ["before you tell me you're done"],
    llmExpectOut: ['before the agent reports it is done'],
  },
  {
    id: 's11',
    theme: 'reversed_instruction',
    title: 'Default exports for components, then named exports only',
    userId: 'omar',
    sessions: [
      {
        prompt: 'Use default exports for React components.',
        reply: 'Okay, one default export per component file.',
        facts: [
          {
            text: 'The user wants default exports for React components.',
            kind: 'instruction',
            topic: 'exports',
          },
        ],
      },
      {
        prompt: 'Never use default exports, named exports only. We turned on the lint rule.',
        reply: 'Got it, named exports everywhere.',
        facts: [
          {
            text: 'The user wants named exports only, never default exports.',
            kind: 'instruction',
            topic: 'exports',
            replaces: 'The user wants default exports for React components.',
          },
        ],
      },
    ],
    finalPrompt: 'Create a UserAvatar component with a fallback to initials.',
    expectIn: ['named exports'],
    expectOut: ['Use default exports for React components'],
    llmExpectOut: ['wants default exports'],
  },
  {
    id: 's12',
    theme: 'reversed_instruction',
    title: 'Ask before adding dependencies, then no need to ask',
    userId: 'ana',
    sessions: [
      {
        prompt: 'Ask me before you install any new dependency.',
        reply: 'Sure, I will check with you first.',
        facts: [
          {
            text: 'The user wants to be asked before any new dependency is installed.',
            kind: 'instruction',
            topic: 'dependencies',
          },
        ],
      },
      {
        prompt: "You don't need to ask before adding dependencies anymore; just tell me what you added.",
        reply: 'Okay, I will list new dependencies at the end instead.',
        facts: [
          {
            text: 'The user no longer needs to be asked before dependencies are added; the agent should just say what it added.',
            kind: 'instruction',
            topic: 'dependencies',
            replaces: 'The user wants to be asked before any new dependency is installed.',
          },
        ],
      },
    ],
    finalPrompt: 'Add CSV export to the reports page.',
    expectIn: ['just tell me what you added'],
    expectOut: ['Ask me before you install'],
    llmExpectIn: ['say what it added'],
    llmExpectOut: ['wants to be asked before'],
  },
  // ---------------------------------------------------------------- changed_fact
  {
    id: 's13',
    theme: 'changed_fact',
    title: 'Moved from Lisbon to Berlin',
    userId: 'joao',
    sessions: [
      {
        prompt: 'I live in Lisbon.',
        reply: 'Lovely city.',
        facts: [{ text: 'The user lives in Lisbon.', kind: 'user_fact', topic: 'home city' }],
      },
      {
        prompt: 'I moved to Berlin last month, still getting used to the winter.',
        reply: 'Welcome to Berlin!',
        facts: [
          {
            text: 'The user moved to Berlin last month.',
            kind: 'user_fact',
            topic: 'home city',
            replaces: 'The user lives in Lisbon.',
          },
        ],
      },
    ],
    finalPrompt: 'Schedule the nightly export job so it runs after my working day ends.',
    expectIn: ['Berlin'],
    expectOut: ['Lisbon'],
  },
  {
    id: 's14',
    theme: 'changed_fact',
    title: 'New job: Stripe to Shopify',
    userId: 'dkim',
    sessions: [
      {
        prompt: 'I work at Stripe on the payouts team.',
        reply: 'Nice, payouts is a fun domain.',
        facts: [
          { text: 'The user works at Stripe on the payouts team.', kind: 'user_fact', topic: 'employer' },
        ],
      },
      {
        prompt: "I've changed jobs: I'm at Shopify now, on the checkout team.",
        reply: 'Congrats on the new role!',
        facts: [
          {
            text: 'The user works at Shopify on the checkout team.',
            kind: 'user_fact',
            topic: 'employer',
            replaces: 'The user works at Stripe on the payouts team.',
          },
        ],
      },
    ],
    finalPrompt: 'Draft a short intro about me for the team wiki page.',
    expectIn: ['Shopify'],
    expectOut: ['Stripe', 'payouts'],
  },
  {
    id: 's15',
    theme: 'changed_fact',
    title: 'Moved from the mobile team to the platform team',
    userId: 'fatima',
    sessions: [
      {
        prompt: "I'm on the mobile team, mostly React Native.",
        reply: 'Okay, React Native it is.',
        facts: [
          {
            text: 'The user is on the mobile team and mostly works in React Native.',
            kind: 'user_fact',
            topic: 'team',
          },
        ],
      },
      {
        prompt: "I moved to the platform team, so it's Terraform and Go for me now.",
        reply: 'Big change! Happy to help with Terraform and Go.',
        facts: [
          {
            text: 'The user is on the platform team and works with Terraform and Go.',
            kind: 'user_fact',
            topic: 'team',
            replaces: 'The user is on the mobile team and mostly works in React Native.',
          },
        ],
      },
    ],
    finalPrompt: 'Help me set up a skeleton for a new internal service.',
    expectIn: ['platform team'],
    expectOut: ['React Native'],
  },
  {
    id: 's16',
    theme: 'changed_fact',
    title: 'Backend stack migrated from Django to FastAPI',
    userId: 'eva',
    sessions: [
      {
        prompt: 'Our stack is Django with Celery and MySQL.',
        reply: 'Classic setup.',
        facts: [
          {
            text: "The user's stack is Django with Celery and MySQL.",
            kind: 'user_fact',
            topic: 'backend stack',
          },
        ],
      },
      {
        prompt: 'We finished the migration: the backend is FastAPI on PostgreSQL now, and Celery is gone.',
        reply: 'Congrats on finishing the migration.',
        facts: [
          {
            text: "The user's backend is FastAPI on PostgreSQL; Celery is no longer used.",
            kind: 'user_fact',
            topic: 'backend stack',
            replaces: "The user's stack is Django with Celery and MySQL.",
          },
        ],
      },
    ],
    finalPrompt: 'Add a background job that emails weekly usage reports.',
    expectIn: ['FastAPI'],
    expectOut: ['Django with Celery and MySQL'],
  },
  // ---------------------------------------------------------------- question
  {
    id: 's17',
    theme: 'question',
    title: 'Only questions: nothing to remember',
    userId: 'leo',
    sessions: [
      {
        prompt: 'What do you know about me?',
        reply: "Nothing yet. Tell me about your setup and I'll keep it in mind.",
        facts: [],
      },
      {
        prompt: 'How do I squash the last three commits?',
        reply: 'Run git rebase -i HEAD~3 and mark the last two as "squash".',
        facts: [],
      },
    ],
    finalPrompt: 'Write a script that deletes local branches already merged into main.',
    expectIn: [],
    expectOut: ['what do you know about me', 'squash the last three commits', 'rebase -i'],
  },
  {
    id: 's18',
    theme: 'question',
    title: 'One standing statement, then only how-to questions',
    userId: 'nina',
    sessions: [
      {
        prompt: 'I use pnpm in all my repos.',
        reply: 'Okay, I will use pnpm commands.',
        facts: [
          { text: 'The user uses pnpm in all their repos.', kind: 'preference', topic: 'package manager' },
        ],
      },
      {
        prompt: 'How do I pin a Node version for a project?',
        reply: 'Add an .nvmrc or the engines field, or use volta pin.',
        facts: [],
      },
      {
        prompt: 'Is it possible to run two Vite dev servers on the same port?',
        reply: 'No, each needs its own port; use a proxy if you want one origin.',
        facts: [],
      },
    ],
    finalPrompt: 'Set up a new TypeScript library with a build and a test script.',
    expectIn: ['pnpm'],
    expectOut: ['pin a Node version', 'two Vite dev servers', 'volta pin'],
  },
  {
    id: 's19',
    theme: 'question',
    title: 'First-person questions are not statements',
    userId: 'marco',
    sessions: [
      {
        prompt: 'Should I use Redis or Memcached for session storage?',
        reply: 'Redis, if you want persistence and richer data types.',
        facts: [],
      },
      {
        prompt: 'Do you think I should move our CLI to Rust?',
        reply: 'Only if startup time or distribution is a real pain today.',
        facts: [],
      },
    ],
    finalPrompt: 'Add caching to the product catalogue endpoint.',
    expectIn: [],
    expectOut: ['Redis or Memcached', 'move our CLI to Rust'],
  },
  {
    id: 's20',
    theme: 'question',
    title: 'Questions about the user, answered with a question by the agent',
    userId: 'yuki',
    sessions: [
      {
        prompt: "Can you remind me which database we're on?",
        reply: "I don't have that on record. Could you tell me which one you use?",
        facts: [],
      },
      {
        prompt: 'Why does my Docker build keep re-downloading all the dependencies?',
        reply: 'Your COPY . . comes before the install step, so every change busts the layer cache.',
        facts: [],
      },
      {
        prompt: 'I work on the analytics team. What is a good way to structure dbt models?',
        reply: 'Staging, intermediate and marts layers work well for most teams.',
        facts: [{ text: 'The user works on the analytics team.', kind: 'user_fact', topic: 'team' }],
      },
    ],
    finalPrompt: 'Write a model that rolls daily signups up into weekly cohorts.',
    expectIn: ['analytics team'],
    expectOut: ["which database we're on", 're-downloading', 'layer cache', 'structure dbt models'],
  },
  // ---------------------------------------------------------------- assistant_guess
  {
    id: 's21',
    theme: 'assistant_guess',
    title: 'The agent guesses Jenkins; the user never said it',
    userId: 'olga',
    sessions: [
      {
        prompt: 'Can you set up a CI pipeline for this repo?',
        reply:
          'Sure. You probably use Jenkins like most teams your size, so here is a Jenkinsfile with build and test stages.',
        facts: [],
      },
      {
        prompt: 'We deploy to Fly.io from the main branch.',
        reply: 'Okay, I will add a deploy stage for Fly.io.',
        facts: [
          {
            text: 'The user deploys to Fly.io from the main branch.',
            kind: 'user_fact',
            topic: 'deploy target',
          },
        ],
      },
    ],
    finalPrompt: 'Add a lint step to the pipeline before the tests.',
    expectIn: ['Fly.io'],
    expectOut: ['Jenkins', 'most teams your size'],
  },
  {
    id: 's22',
    theme: 'assistant_guess',
    title: 'The agent assumes Windows and WSL2',
    userId: 'ben',
    sessions: [
      {
        prompt: "I'm setting up a new laptop for development this week.",
        reply: "Since you're on Windows, I'd start with WSL2 and install your toolchain inside Ubuntu.",
        facts: [],
      },
      {
        prompt: 'I prefer Homebrew-installed tools over manual downloads.',
        reply: 'Makes sense, brew bundle keeps it reproducible.',
        facts: [
          {
            text: 'The user prefers Homebrew-installed tools over manual downloads.',
            kind: 'preference',
            topic: 'tool installation',
          },
        ],
      },
    ],
    finalPrompt: 'What should I install first for Python work?',
    expectIn: ['Homebrew'],
    expectOut: ['Windows', 'WSL2'],
  },
  {
    id: 's23',
    theme: 'assistant_guess',
    title: 'The agent assumes Express 4 and a team indentation style during a review',
    userId: 'chen',
    sessions: [
      {
        prompt: 'Review my PR for the auth middleware, it adds token refresh.',
        reply:
          "Looks good overall. I assume you're on Express 4 and that your team prefers 4-space indentation, so I flagged two places.",
        facts: [],
      },
      {
        prompt: 'We run the API on Fastify, by the way.',
        reply: 'Ah, thanks, then the hooks work differently; let me redo that part.',
        facts: [{ text: "The user's API runs on Fastify.", kind: 'user_fact', topic: 'api framework' }],
      },
    ],
    finalPrompt: 'Add request logging to the middleware.',
    expectIn: ['Fastify'],
    expectOut: ['Express 4', '4-space indentation'],
  },
  // ---------------------------------------------------------------- assistant_paraphrase
  {
    id: 's24',
    theme: 'assistant_paraphrase',
    title: "The agent's recap of the YAML rule adds things the user did not say",
    userId: 'hana',
    sessions: [
      {
        prompt: 'Use 2-space indentation in YAML files.',
        reply:
          'Got it, I kept your 2-space YAML indentation and also normalised the anchors and sorted the keys.',
        facts: [
          {
            text: 'The user wants 2-space indentation in YAML files.',
            kind: 'instruction',
            topic: 'yaml indentation',
          },
        ],
      },
    ],
    finalPrompt: 'Write the docker-compose file for the local stack.',
    expectIn: ['2-space indentation'],
    expectOut: ['normalised the anchors', 'sorted the keys', 'I kept your'],
  },
  {
    id: 's25',
    theme: 'assistant_paraphrase',
    title: 'Test placement preference, paraphrased with extras by the agent',
    userId: 'pablo',
    sessions: [
      {
        prompt: 'I like my tests next to the source files, not in a separate folder.',
        reply:
          "Understood, so you want colocated tests, foo.test.ts beside foo.ts, and you're against a __tests__ directory. I'll also use one describe block per function.",
        facts: [
          {
            text: 'The user likes tests next to the source files, not in a separate folder.',
            kind: 'preference',
            topic: 'test placement',
          },
        ],
      },
    ],
    finalPrompt: 'Add tests for the date formatting utilities.',
    expectIn: ['next to the source files'],
    expectOut: ['colocated', 'describe block per function', '__tests__'],
  },
  {
    id: 's26',
    theme: 'assistant_paraphrase',
    title: 'Commit style recap invents subject-length and body rules',
    userId: 'ivan',
    sessions: [
      {
        prompt: 'Please write commit messages in the imperative mood.',
        reply: 'Will do! To recap: imperative mood, 50-char subject lines, and a blank line before the body.',
        facts: [
          {
            text: 'The user wants commit messages in the imperative mood.',
            kind: 'instruction',
            topic: 'commit message style',
          },
        ],
      },
      {
        prompt: 'Also, link the ticket number in every PR description.',
        reply: 'Sure, and I will put the ticket in the branch name too.',
        facts: [
          {
            text: 'The user wants the ticket number linked in every PR description.',
            kind: 'instruction',
            topic: 'pr description',
          },
        ],
      },
    ],
    finalPrompt: 'Wrap up the caching fix and open a PR for it.',
    expectIn: ['imperative mood', 'ticket number'],
    expectOut: ['50-char subject', 'blank line before the body', 'branch name'],
  },
  // ---------------------------------------------------------------- low_signal
  {
    id: 's27',
    theme: 'low_signal',
    title: 'Greetings and thanks around one real instruction',
    userId: 'zoe',
    sessions: [
      { prompt: 'hey, good morning!', reply: 'Good morning! What are we working on today?', facts: [] },
      {
        prompt: 'I deploy from the main branch only, never from feature branches.',
        reply: 'Okay.',
        facts: [
          {
            text: 'The user deploys from the main branch only, never from feature branches.',
            kind: 'instruction',
            topic: 'deploy branch',
          },
        ],
      },
      { prompt: 'thanks, that worked', reply: 'Glad to hear it!', facts: [] },
      { prompt: 'lol ok', reply: ':)', facts: [] },
    ],
    finalPrompt: 'Ship the hotfix for the login redirect.',
    expectIn: ['main branch only'],
    expectOut: ['good morning', 'that worked', 'lol'],
  },
  {
    id: 's28',
    theme: 'low_signal',
    title: 'Nothing but filler',
    userId: 'max',
    sessions: [
      { prompt: 'ok', reply: 'Anything else?', facts: [] },
      { prompt: 'cool cool', reply: 'Let me know when you need something.', facts: [] },
      { prompt: 'hmm let me think about it', reply: 'Take your time.', facts: [] },
      { prompt: 'nvm, figured it out', reply: 'Nice.', facts: [] },
    ],
    finalPrompt: 'Rename the helpers module to utils and update the imports.',
    expectIn: [],
    expectOut: ['cool cool', 'let me think', 'figured it out'],
  },
  {
    id: 's29',
    theme: 'low_signal',
    title: 'Small talk, then a real statement tucked after "back"',
    userId: 'aisha',
    sessions: [
      { prompt: "Thanks so much, you're a lifesaver!", reply: 'Happy to help!', facts: [] },
      { prompt: 'brb, coffee', reply: 'Enjoy!', facts: [] },
      {
        prompt: "I'm back. I use Vitest for all the frontend tests.",
        reply: 'Welcome back. Vitest noted.',
        facts: [
          {
            text: 'The user uses Vitest for all frontend tests.',
            kind: 'preference',
            topic: 'frontend tests',
          },
        ],
      },
    ],
    finalPrompt: 'Add a test for the pricing table component.',
    expectIn: ['Vitest'],
    expectOut: ['lifesaver', 'coffee'],
  },
  // ---------------------------------------------------------------- secret
  {
    id: 's30',
    theme: 'secret',
    title: 'A pasted live API key must not come back',
    userId: 'felix',
    sessions: [
      {
        prompt: "Here's our Stripe key for the staging script: sk-live-51HqLyjWDarjtT1zdp7dc8LqEw",
        reply: 'Thanks. I would move that into an environment variable rather than hard-coding it.',
        facts: [],
      },
      {
        prompt: 'We keep secrets in Doppler.',
        reply: 'Good, I will read it from Doppler then.',
        facts: [{ text: 'The user keeps secrets in Doppler.', kind: 'user_fact', topic: 'secret storage' }],
      },
    ],
    finalPrompt: 'Wire the staging payment script to read its configuration properly.',
    expectIn: ['Doppler'],
    expectOut: ['sk-live-', '51HqLyjWDarjtT1zdp7dc8LqEw'],
  },
  {
    id: 's31',
    theme: 'secret',
    title: 'A database password in the same message as a real fact',
    userId: 'grace',
    sessions: [
      {
        prompt:
          "I'm on PostgreSQL 16. The staging DB password is hunter2-Vq93!xz, connect and check the users table for duplicates.",
        reply: 'I found 14 duplicate emails in users.',
        facts: [{ text: 'The user is on PostgreSQL 16.', kind: 'user_fact', topic: 'postgres version' }],
      },
    ],
    finalPrompt: 'Add a unique constraint on users.email without breaking the existing rows.',
    expectIn: ['PostgreSQL 16'],
    expectOut: ['hunter2-Vq93!xz', 'password'],
  },
  {
    id: 's32',
    theme: 'secret',
    title: 'A pasted GitHub token next to a tool preference',
    userId: 'hugo',
    sessions: [
      {
        prompt:
          'export GITHUB_TOKEN=ghp_4fK2mZ8qLr0TnX6vB1cY9wE3sA7dP5hJ2uQ\nThat is the token for the release bot. I always use the gh CLI for GitHub tasks.',
        reply: 'Thanks, I will use gh with that token for the release.',
        facts: [
          {
            text: 'The user always uses the gh CLI for GitHub tasks.',
            kind: 'preference',
            topic: 'github tooling',
          },
        ],
      },
    ],
    finalPrompt: 'Create a draft release for v2.3.0 with the changelog.',
    expectIn: ['gh CLI'],
    expectOut: ['ghp_4fK2mZ8qLr0TnX6vB1cY9wE3sA7dP5hJ2uQ', 'GITHUB_TOKEN='],
  },
  // ---------------------------------------------------------------- third_party
  {
    id: 's33',
    theme: 'third_party',
    title: "A colleague's switch to spaces does not change the user's tabs",
    userId: 'maya',
    sessions: [
      {
        prompt: 'I use tabs for indentation.',
        reply: 'Noted.',
        facts: [{ text: 'The user uses tabs for indentation.', kind: 'preference', topic: 'indentation' }],
      },
      {
        prompt: 'My colleague Dana switched to spaces, she says her diffs look cleaner.',
        reply: 'That is a common reason.',
        facts: [
          {
            text: "The user's colleague Dana switched to spaces for indentation.",
            kind: 'other_fact',
            topic: 'dana indentation',
          },
        ],
      },
    ],
    finalPrompt: 'Write the new CSV parser module.',
    expectIn: ['tabs for indentation'],
    expectOut: [],
  },
  {
    id: 's34',
    theme: 'third_party',
    title: "The user's wife moved; the user did not",
    userId: 'joao',
    sessions: [
      {
        prompt: 'I live in Lisbon.',
        reply: 'Great.',
        facts: [{ text: 'The user lives in Lisbon.', kind: 'user_fact', topic: 'home city' }],
      },
      {
        prompt: "My wife moved to Berlin for work, so we're doing long-distance for a while.",
        reply: 'That sounds tough, I hope it goes well.',
        facts: [
          { text: "The user's wife moved to Berlin for work.", kind: 'other_fact', topic: 'wife city' },
        ],
      },
    ],
    finalPrompt: 'Set my calendar reminders script to use my local time zone.',
    expectIn: ['Lisbon'],
    expectOut: [],
  },
  {
    id: 's35',
    theme: 'third_party',
    title: "Priya dropped Jenkins; the user's own CI stays",
    userId: 'tom',
    sessions: [
      {
        prompt: 'I use Jenkins for CI on my projects.',
        reply: 'Okay, Jenkinsfiles it is.',
        facts: [{ text: 'The user uses Jenkins for CI on their projects.', kind: 'user_fact', topic: 'ci' }],
      },
      {
        prompt: 'Priya no longer uses Jenkins, she moved her team to GitLab CI.',
        reply: 'Interesting, GitLab CI is nice if you are on GitLab already.',
        facts: [
          {
            text: "Priya (the user's colleague) moved her team from Jenkins to GitLab CI.",
            kind: 'other_fact',
            topic: 'priya ci',
          },
        ],
      },
    ],
    finalPrompt: 'Add a nightly build job for my repo.',
    expectIn: ['Jenkins for CI'],
    expectOut: [],
  },
  // ---------------------------------------------------------------- two_users
  {
    id: 's36',
    theme: 'two_users',
    title: "Bob's editor and indentation never reach Alice",
    userId: 'bob',
    sessions: [
      {
        prompt: 'I use Emacs for everything.',
        reply: 'Emacs it is.',
        facts: [{ text: 'The user uses Emacs for everything.', kind: 'preference', topic: 'editor' }],
      },
      {
        userId: 'alice',
        prompt: 'I use Neovim.',
        reply: 'Great, Neovim.',
        facts: [{ text: 'The user uses Neovim.', kind: 'preference', topic: 'editor' }],
      },
      {
        prompt: 'I prefer 4 spaces for indentation.',
        reply: 'Okay, four spaces.',
        facts: [
          { text: 'The user prefers 4 spaces for indentation.', kind: 'preference', topic: 'indentation' },
        ],
      },
    ],
    finalPrompt: 'Set up an .editorconfig and editor settings for the repo.',
    finalUserId: 'alice',
    expectIn: ['Neovim'],
    expectOut: ['Emacs', '4 spaces'],
  },
  {
    id: 's37',
    theme: 'two_users',
    title: "Bob's city and employer stay out of Alice's block",
    userId: 'bob',
    sessions: [
      {
        prompt: 'I live in Chicago and work at Netflix.',
        reply: 'Nice.',
        facts: [
          { text: 'The user lives in Chicago.', kind: 'user_fact', topic: 'home city' },
          { text: 'The user works at Netflix.', kind: 'user_fact', topic: 'employer' },
        ],
      },
      {
        userId: 'alice',
        prompt: 'I live in Dublin.',
        reply: 'Noted.',
        facts: [{ text: 'The user lives in Dublin.', kind: 'user_fact', topic: 'home city' }],
      },
    ],
    finalPrompt: 'Schedule my weekly report to go out on Monday morning.',
    finalUserId: 'alice',
    expectIn: ['Dublin'],
    expectOut: ['Chicago', 'Netflix'],
  },
  {
    id: 's38',
    theme: 'two_users',
    title: "Alice's reply language holds against Bob's instructions",
    userId: 'bob',
    sessions: [
      {
        userId: 'alice',
        prompt: 'Reply in Spanish, please.',
        reply: 'Claro, responderé en español.',
        facts: [{ text: 'The user wants replies in Spanish.', kind: 'instruction', topic: 'reply language' }],
      },
      {
        prompt: 'Always answer in English, and keep it brief.',
        reply: 'Sure.',
        facts: [
          { text: 'The user wants answers in English.', kind: 'instruction', topic: 'reply language' },
          { text: 'The user wants brief answers.', kind: 'instruction', topic: 'answer length' },
        ],
      },
      {
        prompt: 'We use Rails 7 with Hotwire.',
        reply: 'Okay, Rails 7 and Hotwire.',
        facts: [{ text: 'The user uses Rails 7 with Hotwire.', kind: 'user_fact', topic: 'stack' }],
      },
    ],
    finalPrompt: 'Explain what the deploy script in bin/ does.',
    finalUserId: 'alice',
    expectIn: ['Spanish'],
    expectOut: ['Rails 7', 'keep it brief', 'in English'],
    llmExpectOut: ['Rails 7', 'brief answers', 'in English'],
  },
  // ---------------------------------------------------------------- mixed
  {
    id: 's39',
    theme: 'mixed',
    title: 'A version fact with a how-to question in the same message',
    userId: 'ines',
    sessions: [
      {
        prompt: "I'm on PostgreSQL 15, how do I add a column without locking the table?",
        reply: 'Adding a nullable column without a default is instant; backfill in batches afterwards.',
        facts: [{ text: 'The user is on PostgreSQL 15.', kind: 'user_fact', topic: 'postgres version' }],
      },
    ],
    finalPrompt: 'Add an index on orders.created_at.',
    expectIn: ['PostgreSQL 15'],
    expectOut: ['backfill in batches'],
  },
  {
    id: 's40',
    theme: 'mixed',
    title: 'A change plus a question supersedes the old package manager',
    userId: 'nina',
    sessions: [
      {
        prompt: 'I use npm for everything.',
        reply: 'Okay, npm.',
        facts: [{ text: 'The user uses npm for everything.', kind: 'preference', topic: 'package manager' }],
      },
      {
        prompt: 'I switched to pnpm last week, how do I migrate the lockfile?',
        reply: 'Run pnpm import in the repo; it reads package-lock.json and writes pnpm-lock.yaml.',
        facts: [
          {
            text: 'The user switched to pnpm.',
            kind: 'preference',
            topic: 'package manager',
            replaces: 'The user uses npm for everything.',
          },
        ],
      },
    ],
    finalPrompt: 'Add a workspace package for the shared types.',
    expectIn: ['pnpm'],
    expectOut: ['npm for everything', 'pnpm import'],
  },
  {
    id: 's41',
    theme: 'mixed',
    title: 'Statement, question and thanks in one message',
    userId: 'olga',
    sessions: [
      {
        prompt:
          'Thanks btw for yesterday. We deploy on Kubernetes with Helm. Why is my pod stuck in CrashLoopBackOff?',
        reply: 'Check kubectl logs --previous; it is usually a failing startup command or a missing env var.',
        facts: [
          { text: 'The user deploys on Kubernetes with Helm.', kind: 'user_fact', topic: 'deployment' },
        ],
      },
    ],
    finalPrompt: 'Add a readiness probe to the API chart.',
    expectIn: ['Helm'],
    expectOut: ['CrashLoopBackOff', 'thanks btw', 'kubectl logs'],
  },
  {
    id: 's42',
    theme: 'mixed',
    title: 'Greeting, two facts, a question, and an agent guess',
    userId: 'ravi',
    sessions: [
      {
        prompt:
          'Hi! I work in Python 3.12 mostly and I like type hints everywhere. Could you explain what a Protocol is?',
        reply:
          "A Protocol describes the methods an object must have, checked structurally. Since you're on mypy strict, you'll get errors when a class doesn't match.",
        facts: [
          { text: 'The user mostly works in Python 3.12.', kind: 'user_fact', topic: 'python version' },
          { text: 'The user likes type hints everywhere.', kind: 'preference', topic: 'type hints' },
        ],
      },
    ],
    finalPrompt: 'Write the plugin interface for the exporter package.',
    expectIn: ['Python 3.12', 'type hints'],
    expectOut: ['what a Protocol is', 'mypy strict'],
  },
];
