import { NAME_PATTERN } from '../../core/config/users.ts';
import { USERS } from './settings.ts';

export const NAME_ALLOWED = `a name matching ${NAME_PATTERN.source}`;

/** Accounts a distribution, cloud image or this agent already uses for something else. */
const RESERVED_NAMES = new Set([
  'root',
  'daemon',
  'bin',
  'sys',
  'sync',
  'games',
  'man',
  'lp',
  'mail',
  'news',
  'uucp',
  'proxy',
  'www-data',
  'backup',
  'list',
  'irc',
  'gnats',
  'nobody',
  'nogroup',
  '_apt',
  'sshd',
  'messagebus',
  'polkitd',
  'dbus',
  'tss',
  'chrony',
  'postfix',
  'ec2-user',
  'ubuntu',
  'admin',
  'debian',
  'halt',
  'shutdown',
  'operator',
  'ftp',
  'adm',
  'wheel',
  'sudo',
  'docker',
  'ecs',
  'rpc',
  'rpcuser',
  'nfsnobody',
  'dnsmasq',
  'ssm-user',
  USERS.markerGroup,
  USERS.sudoGroup,
]);

/** What is wrong with a user name, or null when it may be synced. */
export function nameProblem(name: string): string | null {
  const syntax = (problem: string) => `${problem}; allowed: ${NAME_ALLOWED}`;
  if (name === '') return syntax('is empty');
  if (/[\n\r\0]/.test(name)) return syntax('contains a newline or NUL');
  if (name.startsWith('-')) return syntax('starts with "-" (a tool would read it as an option)');
  if (name.startsWith('.')) return syntax('starts with "."');
  if (name.includes('/')) return syntax('contains "/"');
  if (name.length > 32) return syntax('is longer than 32 characters');
  if (!NAME_PATTERN.test(name))
    return syntax('has characters other than a-z, 0-9, "_" and "-", or starts with a digit');
  if (RESERVED_NAMES.has(name) || name.startsWith('systemd-')) {
    return 'is reserved for a system account; allowed: a name no system account uses';
  }
  return null;
}
