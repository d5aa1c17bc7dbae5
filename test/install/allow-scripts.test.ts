/**
 * A clean install prints nothing about the project's own dependencies: npm 11 reports every installed package
 * with install scripts that `allowScripts` in package.json does not cover ("not yet covered by allowScripts").
 * This asks npm itself (`npm approve-scripts --allow-scripts-pending`, read-only) against the installed tree.
 * npm 10 has no such policy and ignores the field: the test is skipped there, with the reason printed.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processOutput } from '../support/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const npmVersion = spawnSync('npm', ['--version'], { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
const major = Number(npmVersion.split('.')[0]);

test(
  'every installed package with install scripts is covered by allowScripts',
  major >= 11 ? {} : { skip: `npm ${npmVersion || 'not found'} has no allowScripts policy (npm 11 does)` },
  async () => {
    const child = spawn('npm', ['approve-scripts', '--allow-scripts-pending', '--json'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { code, stdout, stderr } = await processOutput(child);
    assert.equal(code, 0, stderr);
    const pending = (JSON.parse(stdout) as { allowScripts: Array<{ name: string }> }).allowScripts;
    assert.deepEqual(
      pending.map((entry) => entry.name),
      [],
      'declare these in package.json "allowScripts" (npm approve-scripts <name>) after reviewing their scripts',
    );
  },
);
