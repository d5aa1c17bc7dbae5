/**
 * A Claude agent that remembers its user across sessions: mneme's `withMemory` around the Claude Agent SDK.
 *
 *   ANTHROPIC_API_KEY=sk-ant-... node --import tsx examples/agent-with-memory.ts "I prefer tabs over spaces"
 *   ANTHROPIC_API_KEY=sk-ant-... node --import tsx examples/agent-with-memory.ts "How should I indent this file?"
 *
 * The second run, a new process and a new session, is given the preference from the first. Memories live in
 * mneme's default SQLite store (`~/.local/share/mneme/mneme.db` on Linux; option `store` / env MNEME_STORE).
 * Env: MNEME_EXAMPLE_USER (default alice), MNEME_EXAMPLE_MODEL (default claude-sonnet-4-5). Without a key it
 * explains how to run and exits 0. ANTHROPIC_BASE_URL points it at another Messages API (a proxy, or a fake).
 *
 * In an application the imports are `from 'mneme'` and `from 'mneme/claude-agent-sdk'`.
 */
import { query } from '@anthropic-ai/claude-agent-sdk';
import { createMemory } from '../src/index.js';
import { withMemory } from '../src/integrations/claude-agent-sdk.js';

async function main(): Promise<void> {
  if (!process.env.ANTHROPIC_API_KEY) {
    process.stdout.write(
      [
        'This example runs a real Claude agent with persistent memory. It needs an Anthropic API key:',
        '',
        '  ANTHROPIC_API_KEY=sk-ant-... node --import tsx examples/agent-with-memory.ts "I prefer tabs over spaces"',
        '  ANTHROPIC_API_KEY=sk-ant-... node --import tsx examples/agent-with-memory.ts "How should I indent this file?"',
        '',
        'Set ANTHROPIC_BASE_URL too to use another Messages API endpoint.',
        '',
      ].join('\n'),
    );
    return;
  }
  const userId = process.env.MNEME_EXAMPLE_USER ?? 'alice';
  const prompt = process.argv.slice(2).join(' ') || 'I prefer tabs over spaces, and short answers.';
  // With ANTHROPIC_API_KEY set, mneme also uses Claude Haiku to extract facts from the conversation.
  const memory = await createMemory();
  try {
    const options = withMemory(
      memory,
      { userId },
      { model: process.env.MNEME_EXAMPLE_MODEL ?? 'claude-sonnet-4-5', allowedTools: ['Read'], maxTurns: 6 },
    );
    for await (const message of query({ prompt, options })) {
      if (message.type === 'assistant') {
        for (const block of message.message.content) {
          if (block.type === 'text') process.stdout.write(`${block.text}\n`);
          if (block.type === 'tool_use') process.stdout.write(`[tool ${block.name}]\n`);
        }
      }
      if (message.type === 'result' && message.subtype !== 'success') {
        process.stderr.write(`the agent stopped: ${message.subtype}\n`);
        process.exitCode = 1;
      }
    }
    // The hooks queued this exchange; ingest it before the process exits (close() would too).
    const { pending } = await memory.flush();
    if (pending > 0)
      process.stderr.write(`mneme: ${pending} exchange(s) still queued; the next run retries them\n`);
    const { results } = await memory.list({ userId, limit: 5 });
    process.stderr.write(
      `mneme: ${userId}'s newest memories:\n${results.map((record) => `  - ${record.memory}`).join('\n')}\n`,
    );
  } finally {
    await memory.close();
  }
}

await main();
