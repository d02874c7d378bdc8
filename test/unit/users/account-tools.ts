import type { ExecResult } from '../../../src/host/host.ts';
import type { FakeHost } from '../../support/fake-host.ts';

/**
 * The account tools on a FakeHost, keeping passwd, shadow, group and gshadow as the shadow suite does, for tests
 * that apply a whole plan and read the databases back (newusers' result is checked that way). Only the options
 * the agent uses are understood; anything else fails the test. newusers exits 1 after writing the accounts, as
 * Debian's does when its PAM step cannot set the empty password.
 */
const OK: ExecResult = { exitCode: 0, stdout: '', stderr: '' };

type Table = 'passwd' | 'shadow' | 'group' | 'gshadow';

export function withAccountTools(host: FakeHost): FakeHost {
  const tools: Readonly<Record<string, (args: readonly string[], input: string) => ExecResult>> = {
    groupadd: (args) => groupadd(host, operand(args)),
    newusers: (_args, input) => newusers(host, input),
    chpasswd: (_args, input) => chpasswd(host, input),
    usermod: (args) => usermod(host, args),
    gpasswd: (args) => gpasswd(host, args),
    userdel: (args) => userdel(host, args),
  };
  host.execHandlers.unshift((file, args, options) => tools[file]?.(args, options.input ?? ''));
  return host;
}

function operand(args: readonly string[]): string {
  const index = args.indexOf('--');
  if (index < 0 || index !== args.length - 2) throw new Error(`expected "-- NAME" at the end of ${args.join(' ')}`);
  return args[index + 1] as string;
}

function rows(host: FakeHost, table: Table): string[][] {
  return (host.text(`/etc/${table}`) ?? '')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.split(':'));
}

function save(host: FakeHost, table: Table, lines: readonly string[][]): void {
  const mode = table === 'shadow' || table === 'gshadow' ? 0o640 : 0o644;
  host.putFile(`/etc/${table}`, lines.map((fields) => `${fields.join(':')}\n`).join(''), mode);
}

function change(host: FakeHost, table: Table, name: string, edit: (fields: string[]) => void): void {
  const lines = rows(host, table);
  const row = lines.find((fields) => fields[0] === name);
  if (row === undefined) throw new Error(`${name} is not in /etc/${table}`);
  edit(row);
  save(host, table, lines);
}

function add(host: FakeHost, table: Table, fields: readonly string[]): void {
  save(host, table, [...rows(host, table), [...fields]]);
}

function groupadd(host: FakeHost, name: string): ExecResult {
  const used = new Set(rows(host, 'group').map((fields) => Number(fields[2])));
  let gid = 999;
  while (used.has(gid)) gid--;
  add(host, 'group', [name, 'x', String(gid), '']);
  add(host, 'gshadow', [name, '!', '', '']);
  return OK;
}

/** name::uid:gid:comment:home:shell lines: the group of that number made when missing, the home made if absent. */
function newusers(host: FakeHost, input: string): ExecResult {
  for (const line of input.split('\n').filter(Boolean)) {
    const [name = '', , uid = '', gid = '', comment = '', home = '', shell = ''] = line.split(':');
    add(host, 'passwd', [name, 'x', uid, gid, comment, home, shell]);
    add(host, 'shadow', [name, '!', '20000', '0', '99999', '7', '', '', '']);
    if (!rows(host, 'group').some((fields) => fields[2] === gid)) {
      add(host, 'group', [name, 'x', gid, '']);
      add(host, 'gshadow', [name, '!', '', '']);
    }
    if (!host.directories.has(home)) {
      host.directories.add(home);
      host.directoryOwners.set(home, { mode: 0o755, uid: Number(uid), gid: Number(gid) });
    }
  }
  return { exitCode: 1, stdout: '', stderr: 'newusers: (line 1, user x) password not changed\n' };
}

function chpasswd(host: FakeHost, input: string): ExecResult {
  for (const line of input.split('\n').filter(Boolean)) {
    const [name = '', password = ''] = line.split(':');
    change(host, 'shadow', name, (fields) => void (fields[1] = password));
  }
  return OK;
}

function usermod(host: FakeHost, args: readonly string[]): ExecResult {
  const name = operand(args);
  for (let index = 0; args[index] !== '--'; index++) {
    const option = args[index];
    if (option === '-L') change(host, 'shadow', name, (fields) => void (fields[1] = `!${fields[1]}`));
    else if (option === '-e') change(host, 'shadow', name, (fields) => void (fields[7] = args[++index] as string));
    else if (option === '-s') change(host, 'passwd', name, (fields) => void (fields[6] = args[++index] as string));
    else throw new Error(`usermod: ${option} is not modelled`);
  }
  return OK;
}

/** gpasswd -M LIST -- GROUP: the members of group and gshadow both. */
function gpasswd(host: FakeHost, args: readonly string[]): ExecResult {
  if (args[0] !== '-M') throw new Error(`gpasswd: ${args[0]} is not modelled`);
  const group = operand(args);
  change(host, 'group', group, (fields) => void (fields[3] = args[1] as string));
  change(host, 'gshadow', group, (fields) => void (fields[3] = args[1] as string));
  return OK;
}

/** The account, its group, its memberships; the home with --remove. */
function userdel(host: FakeHost, args: readonly string[]): ExecResult {
  const name = operand(args);
  const home = rows(host, 'passwd').find((fields) => fields[0] === name)?.[5];
  for (const table of ['passwd', 'shadow', 'group', 'gshadow'] as const) {
    const kept = rows(host, table).filter((fields) => fields[0] !== name);
    if (table === 'group' || table === 'gshadow') {
      for (const fields of kept)
        fields[3] = (fields[3] ?? '')
          .split(',')
          .filter((member) => member !== name)
          .join(',');
    }
    save(host, table, kept);
  }
  if (args[0] === '--remove' && home !== undefined) void host.rm(home, { recursive: true });
  return OK;
}
