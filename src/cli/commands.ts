import { cemCommand } from './cem.js';
import { conformanceCommand } from './conformance.js';
import { demoCommand } from './demo.js';
import { inspectCommand } from './inspect.js';
import { rmCommand } from './rm.js';
import type { Command } from './run.js';
import { statechartsCommand } from './statecharts.js';
import { validateCommand } from './validate.js';

/** Every `s2` subcommand by name, in the order `s2 --help` lists them. */
export const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  cem: cemCommand,
  rm: rmCommand,
  validate: validateCommand,
  inspect: inspectCommand,
  statecharts: statechartsCommand,
  conformance: conformanceCommand,
};
