import type { Command } from './run.js';
import { validateCommand } from './validate.js';

/** Every `s2` subcommand by name, in the order `s2 --help` lists them. */
export const COMMANDS: Record<string, Command> = {
  validate: validateCommand,
};
