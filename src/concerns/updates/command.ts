import type { Command } from '../../core/command.ts';

/** Updates download and install: bounded, but generously. */
const UPDATE_TIMEOUT_MS = 60 * 60_000;

/** A command of the update path; it runs as the install path's do (pkg/transaction.ts), transient failures retried. */
export function updateCommand(command: Omit<Command, 'timeoutMs'>): Command {
  return { ...command, timeoutMs: UPDATE_TIMEOUT_MS };
}
