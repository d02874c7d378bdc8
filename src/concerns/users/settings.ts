import { MARKER_GROUP, SUDO_GROUP } from '../../core/config/users.ts';

/** Where the users concern keeps its marks on the managed system, and its limits. */
export const USERS = {
  /** Names of the accounts the agent created; with the marker group, what makes an account "managed". */
  stateFile: '/var/lib/ecs-host-agent/users.json',
  stateDirectory: '/var/lib/ecs-host-agent',
  markerGroup: MARKER_GROUP,
  sudoGroup: SUDO_GROUP,
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
  /** A source listing more users is refused as a whole. */
  maxSourceUsers: 10_000,
  maxGroups: 64,
  /** A larger authorized_keys reads as its first bytes, which never match, so it is rewritten. */
  maxKeysFileBytes: 2 * 1024 * 1024,
  /** Account expiry day 1 (1970-01-02): in the past, so PAM and sshd refuse the account. */
  lockedExpireDay: '1',
  /** Named to sort first in sshd_config.d: for each keyword sshd keeps the first value a matching block gives. */
  sshdDropIn: '/etc/ssh/sshd_config.d/00-ecs-host-agent.conf',
  sshdDropInDirectory: '/etc/ssh/sshd_config.d',
  /** Where sshd's main configuration is, in the order sshd versions of the supported distributions look. */
  sshdConfigs: ['/etc/ssh/sshd_config', '/usr/etc/ssh/sshd_config'],
  sshd: '/usr/sbin/sshd',
  /** The units that run sshd: Debian and Ubuntu call it ssh, the others sshd. */
  sshdUnits: ['ssh.service', 'sshd.service'],
  skel: '/etc/skel',
  /** An ssm: source's parameters as last read in full, with the generation they were read at. */
  sourceCacheFile: '/var/lib/ecs-host-agent/users-source.json',
  /** Read an ssm: source in full at least this often even when its generation is unchanged (a forgotten bump). */
  sourceCacheMaxAgeMs: 24 * 3_600_000,
  /** SDK attempts per SSM call; throttled calls back off exponentially (from 0.5 s) between attempts. */
  ssmAttempts: 5,
  /** SIGKILL rounds for the processes of a user being removed (each round waits briefly for them to go). */
  killRounds: 5,
  killRoundWaitMs: 200,
} as const;

export const SUDOERS_TEXT = [
  `# Managed by ecs-host-agent: members of ${USERS.sudoGroup} (users with "sudo": true in USERS_SOURCE)`,
  "# may run any command as root. The agent's users have no password, hence NOPASSWD.",
  `%${USERS.sudoGroup} ALL=(ALL:ALL) NOPASSWD: ALL`,
  '',
].join('\n');

/**
 * For the users the agent manages, the keys of the source are the only way in: sshd reads no other key file
 * (Debian's and Ubuntu's default also reads ~/.ssh/authorized_keys2), asks no AuthorizedKeysCommand (EC2 Instance
 * Connect, an LDAP lookup), and accepts no user certificates and no host-based login.
 */
export const SSHD_DROP_IN_TEXT = [
  `# Managed by ecs-host-agent: for the users it manages (group ${USERS.markerGroup}), the keys from`,
  '# USERS_SOURCE in ~/.ssh/authorized_keys are the only keys sshd accepts. Changes here are overwritten.',
  `Match Group ${USERS.markerGroup}`,
  '\tAuthorizedKeysFile .ssh/authorized_keys',
  '\tAuthorizedKeysCommand none',
  '\tAuthorizedPrincipalsCommand none',
  '\tAuthorizedPrincipalsFile none',
  '\tTrustedUserCAKeys none',
  '\tHostbasedAuthentication no',
  '',
].join('\n');

export const KEYS_FILE_HEADER =
  '# Managed by ecs-host-agent from USERS_SOURCE: changes here are overwritten at the next sync.\n';
