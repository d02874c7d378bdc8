import { readFileSync } from 'node:fs';

/** An account as the four databases of a root hold it, for checking a sync's result. */
export interface AccountView {
  readonly uid: number;
  readonly gid: number;
  /** shadow's password field. */
  readonly password: string | null;
  /** A group with the account's gid exists in /etc/group, and it is in /etc/gshadow too. */
  readonly privateGroup: boolean;
  readonly inGshadow: boolean;
  /** Supplementary groups, sorted, as /etc/group lists them; the same in gshadow or this is flagged. */
  readonly groups: readonly string[];
}

function rows(root: string, file: string): string[][] {
  return readFileSync(`${root}/etc/${file}`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(':'));
}

export function parseAccounts(root: string): Map<string, AccountView> {
  const groups = rows(root, 'group');
  const gshadow = new Map(rows(root, 'gshadow').map(([name = '', , , members = '']) => [name, members]));
  const shadow = new Map(rows(root, 'shadow').map(([name = '', password = '']) => [name, password]));
  const accounts = new Map<string, AccountView>();
  for (const [name = '', , uid = '', gid = ''] of rows(root, 'passwd')) {
    const own = groups.find(([, , groupGid]) => groupGid === gid)?.[0];
    const member = groups
      .filter(([, , , members = '']) => members.split(',').includes(name))
      .map(([group = '']) => group)
      .sort();
    const gshadowAgrees = member.every((group) => (gshadow.get(group) ?? '').split(',').includes(name));
    accounts.set(name, {
      uid: Number(uid),
      gid: Number(gid),
      password: shadow.get(name) ?? null,
      privateGroup: own !== undefined,
      inGshadow: own !== undefined && gshadow.has(own) && gshadowAgrees,
      groups: member,
    });
  }
  return accounts;
}
