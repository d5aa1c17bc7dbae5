/** The command registry: one row per command file. */
import type { Command } from '../command.js';
import { addCommand } from './add.js';
import { consoleCommand } from './console.js';
import { copyCommand } from './copy.js';
import { demoCommand } from './demo.js';
import { doctorCommand } from './doctor.js';
import { exportCommand } from './export.js';
import { forgetCommand } from './forget.js';
import { getCommand } from './get.js';
import { historyCommand } from './history.js';
import { hookCommand } from './hook.js';
import { importCommand } from './import.js';
import { keysCommand } from './keys.js';
import { listCommand } from './list.js';
import { mcpCommand } from './mcp.js';
import { migrateCommand } from './migrate.js';
import { profileCommand } from './profile.js';
import { queueCommand } from './queue.js';
import { searchCommand } from './search.js';
import { serveCommand } from './serve.js';

export const COMMANDS: Command[] = [
  addCommand,
  searchCommand,
  listCommand,
  getCommand,
  forgetCommand,
  historyCommand,
  profileCommand,
  exportCommand,
  importCommand,
  demoCommand,
  serveCommand,
  consoleCommand,
  keysCommand,
  mcpCommand,
  hookCommand,
  doctorCommand,
  queueCommand,
  migrateCommand,
  copyCommand,
];
