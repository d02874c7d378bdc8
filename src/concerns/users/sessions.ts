import { type Command, execOptions } from '../../core/command.ts';
import { AgentError, messageOf } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Host } from '../../host/host.ts';
import { processesOf } from './processes.ts';
import { USERS } from './settings.ts';

/**
 * Ends what a user still runs once their access ends: logind's sessions first (their scopes, with whatever
 * changed uid inside them), then, round after round, SIGKILL to every process left with the user's uid in the
 * agent's PID namespace, until none is left (a process forking meanwhile is caught by the next round).
 */
export interface Ending {
  readonly user: string;
  readonly uid: number;
  /** terminateCommand's. */
  readonly terminate: Command;
}

export async function endSessions(host: Host, logger: Logger, { user, uid, terminate }: Ending): Promise<void> {
  if (host.root !== '/') return;
  await terminateLogindUser(host, logger, user, terminate);
  for (let round = 0; round < USERS.killRounds; round++) {
    const pids = (await processesOf(host, new Set([uid]))).get(uid) ?? [];
    if (pids.length === 0) return;
    // Any exit status: a process may have ended between the scan and the signal.
    await host.exec('kill', ['-s', 'KILL', '--', ...pids.map(String)]);
    await host.sleep(USERS.killRoundWaitMs);
  }
  const left = (await processesOf(host, new Set([uid]))).get(uid) ?? [];
  if (left.length > 0)
    throw new AgentError(
      `${user}'s processes ${left.join(' ')} are still running after SIGKILL; the account stays locked`,
    );
}

export function terminateCommand(user: string): Command {
  return { file: 'loginctl', args: ['terminate-user', '--', user], timeoutMs: 30_000 };
}

/** logind may not run (a container, an image being built) or know no session of the user: neither is a failure. */
async function terminateLogindUser(host: Host, logger: Logger, user: string, terminate: Command): Promise<void> {
  try {
    const result = await host.exec(terminate.file, terminate.args, execOptions(terminate));
    if (result.exitCode !== 0)
      logger.debug(`users: loginctl terminate-user ${user}: ${(result.stderr || result.stdout).trim()}`);
  } catch (error) {
    logger.debug(`users: loginctl terminate-user ${user}: ${messageOf(error)}`);
  }
}
