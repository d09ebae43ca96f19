#!/usr/bin/env node
import { Command } from 'commander';
import { isStorageError } from '../../storage/errors.js';
import { explainCommand } from './explain-command.js';
import { joinCommand, unjoinCommand } from './join-command.js';
import { memberCommand } from './member-command.js';
import { upCommand } from './up-command.js';
import { serveCommand } from './serve-command.js';
import { storeCommand } from './store-command.js';

const program = new Command('flotilla')
  .description('Flotilla: a Kubernetes federation control plane, wire-compatible with Karmada')
  .version('0.1.0')
  .showHelpAfterError()
  .addCommand(upCommand())
  .addCommand(serveCommand())
  .addCommand(memberCommand())
  .addCommand(storeCommand())
  .addCommand(joinCommand())
  .addCommand(unjoinCommand())
  .addCommand(explainCommand());

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const message = isStorageError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  process.stderr.write(`error: ${message}\n`);
  process.exitCode = 1;
}
