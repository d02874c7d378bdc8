import { ConfigError } from '../errors.ts';
import { byteLength } from './text.ts';

/**
 * What execve takes, so that systemd can start a unit whose EnvironmentFile= is
 * agent.env or /etc/ecs/ecs.config: beyond these the exec fails with E2BIG
 * ("Argument list too long", status 203/EXEC) and the unit never starts.
 *
 * - One "KEY=value" string, with its NUL, may not exceed MAX_ARG_STRLEN, 32 pages
 *   of 4 KiB: 131,072 bytes, so at most 131,071 bytes of KEY=value.
 * - argv and the environment together may not exceed a quarter of the stack limit:
 *   2 MiB with the default 8 MiB RLIMIT_STACK, each string counted with its NUL and
 *   an 8-byte pointer. systemd adds its own variables and the unit's Environment=;
 *   the variables of one file get half of that, 1 MiB, leaving the rest as headroom.
 */
export const MAX_VARIABLE_BYTES = 131_071;
export const MAX_FILE_ENVIRONMENT_BYTES = 1_048_576;

/** Bytes a variable takes of execve's budget: the string, its NUL and its pointer. */
export function environmentCost(key: string, value: string): number {
  return byteLength(`${key}=${value}`) + 1 + 8;
}

/** Why KEY=value is too long for execve, or null. */
export function variableTooLong(key: string, value: string): string | null {
  const bytes = byteLength(`${key}=${value}`);
  if (bytes <= MAX_VARIABLE_BYTES) return null;
  return (
    `is too long: ${key}=value is ${format(bytes)} bytes, ` +
    `over Linux's limit of ${format(MAX_VARIABLE_BYTES)} bytes for one ` +
    'environment variable (MAX_ARG_STRLEN), and systemd could not start the unit (status 203/EXEC)'
  );
}

/** Why variables read from one file together are too much for execve, or null. */
export function environmentTooLarge(variables: Iterable<readonly [string, string]>, file: string): string | null {
  let total = 0;
  for (const [key, value] of variables) total += environmentCost(key, value);
  if (total <= MAX_FILE_ENVIRONMENT_BYTES) return null;
  return (
    `the variables of ${file} take ${format(total)} bytes of the environment ` +
    '(each counted with its NUL and pointer), over ' +
    `the agent's limit of ${format(MAX_FILE_ENVIRONMENT_BYTES)} bytes: half of the 2 MiB execve takes, ` +
    'the rest left for ' +
    "what systemd adds; beyond execve's limit systemd cannot start the unit (status 203/EXEC)"
  );
}

/** The keys the agent writes to /etc/ecs/ecs.config, from wherever they came, must fit what execve takes. */
export function checkEcsConfigEnvironment(cluster: string, passThrough: Readonly<Record<string, string>>): void {
  const tooLarge = environmentTooLarge(
    [['ECS_CLUSTER', cluster], ...Object.entries(passThrough)],
    '/etc/ecs/ecs.config',
  );
  if (tooLarge) throw new ConfigError(`ECS_* keys from agent.env, the environment and flags: ${tooLarge}`);
}

function format(bytes: number): string {
  return bytes.toLocaleString('en-US');
}
