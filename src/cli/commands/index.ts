/** The command registry: one row per command file. */
import type { Command } from '../command.js';
import { addCommand } from './add.js';
import { demoCommand } from './demo.js';
import { exportCommand } from './export.js';
import { forgetCommand } from './forget.js';
import { getCommand } from './get.js';
import { historyCommand } from './history.js';
import { importCommand } from './import.js';
import { listCommand } from './list.js';
import { searchCommand } from './search.js';

export const COMMANDS: Command[] = [
  addCommand,
  searchCommand,
  listCommand,
  getCommand,
  forgetCommand,
  historyCommand,
  exportCommand,
  importCommand,
  demoCommand,
];
