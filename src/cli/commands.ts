import { cemCommand } from './cem.js';
import type { Command } from './common.js';
import { conformanceCommand } from './conformance.js';
import { demoCommand } from './demo.js';
import { discoverCommand } from './discover.js';
import { inspectCommand } from './inspect.js';
import { pairingsCommand, unpairCommand } from './pairings.js';
import { proxyCommand } from './proxy.js';
import { rmCommand } from './rm.js';
import { statechartsCommand } from './statecharts.js';
import { validateCommand } from './validate.js';

/** Every `s2` subcommand by name, in the order `s2 --help` lists them. */
export const COMMANDS: Readonly<Record<string, Command>> = Object.fromEntries(
  [
    demoCommand,
    cemCommand,
    rmCommand,
    pairingsCommand,
    unpairCommand,
    discoverCommand,
    validateCommand,
    proxyCommand,
    inspectCommand,
    statechartsCommand,
    conformanceCommand,
  ].map((c) => [c.name, c]),
);
