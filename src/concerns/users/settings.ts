/** Where the users concern keeps its marks on the managed system, and its limits. */
export const USERS = {
  /** Names of the accounts the agent created; with the marker group, what makes an account "managed". */
  stateFile: '/var/lib/ecs-host-agent/users.json',
  stateDirectory: '/var/lib/ecs-host-agent',
  /** Every managed account is a member; only root can add members, so a user cannot fake or shed it. */
  markerGroup: 'ecs-host-agent-users',
  /** The group the sudoers rule names. */
  sudoGroup: 'ecs-host-agent-sudo',
  /** No "." in the name: sudo skips such files in sudoers.d, which is what keeps the temporary file inert. */
  sudoersFile: '/etc/sudoers.d/ecs-host-agent',
  sudoersTemp: '/etc/sudoers.d/.ecs-host-agent.new',
  homeBase: '/home',
  comment: 'managed by ecs-host-agent',
  keysPath: '.ssh/authorized_keys',
  /** sshd's StrictModes accepts looser modes; these are what the agent sets. */
  sshDirMode: 0o700,
  keysFileMode: 0o600,
  maxKeyBytes: 16 * 1024,
  maxKeys: 100,
  maxGroups: 64,
  /** A larger authorized_keys reads as its first bytes, which never match, so it is rewritten. */
  maxKeysFileBytes: 2 * 1024 * 1024,
  /** Account expiry day 1 (1970-01-02): in the past, so PAM and sshd refuse the account. */
  lockedExpireDay: '1',
} as const;

export const SUDOERS_TEXT = `# Managed by ecs-host-agent: members of ${USERS.sudoGroup} (users with "sudo": true in USERS_SOURCE)
# may run any command as root. The agent's users have no password, hence NOPASSWD.
%${USERS.sudoGroup} ALL=(ALL:ALL) NOPASSWD: ALL
`;

export const KEYS_FILE_HEADER = '# Managed by ecs-host-agent from USERS_SOURCE: changes here are overwritten at the next sync.\n';
