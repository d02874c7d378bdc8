/**
 * A real sshd on 127.0.0.1 for key logins of synced users, run with the distribution's STOCK configuration: the
 * package's own default sshd_config (/usr/share/openssh/sshd_config, which sets no AuthorizedKeysFile, so sshd
 * reads ~/.ssh/authorized_keys and ~/.ssh/authorized_keys2, and which includes /etc/ssh/sshd_config.d/*.conf).
 * Only where it listens, its host key and PID file come from the command line (-o), the same way systemd's unit
 * would add options. It authenticates against this machine's own accounts (UsePAM yes), so tests using it create
 * (and remove) real users. stop() kills it by PID; reload() sends SIGHUP, which is what `systemctl reload ssh`
 * does (this machine has no systemd to do it).
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

import { freePort, stopChild } from './moto.ts';
import { requireRoot } from './scratch.ts';

const SSHD = '/usr/sbin/sshd';
/** The default configuration shipped in Debian's openssh-server, as installed before any local change. */
export const STOCK_SSHD_CONFIG = '/usr/share/openssh/sshd_config';
/** sshd's privilege separation directory; Debian creates it in the unit, which does not run here. */
const PRIVSEP_DIR = '/run/sshd';
const STARTUP_TIMEOUT_MS = 15_000;

export interface Sshd {
  readonly port: number;
  /** Re-reads the configuration, drop-ins included, as a reload of the unit does. */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSshd(dir: string): Promise<Sshd> {
  requireRoot();
  if (!existsSync(SSHD))
    throw new Error(`${SSHD} is missing: apt-get install openssh-server (see test/support/setup-system.ts)`);
  if (/^\s*AuthorizedKeysFile/m.test(readFileSync(STOCK_SSHD_CONFIG, 'utf8'))) {
    throw new Error(
      `${STOCK_SSHD_CONFIG} sets AuthorizedKeysFile: it is not the stock configuration these tests are about`,
    );
  }
  const ownPrivsep = !existsSync(PRIVSEP_DIR);
  if (ownPrivsep) mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/host_key`]);
  const port = await freePort();
  const args = [
    '-f',
    STOCK_SSHD_CONFIG,
    '-o',
    `Port=${port}`,
    '-o',
    'ListenAddress=127.0.0.1',
    '-o',
    `HostKey=${dir}/host_key`,
    '-o',
    `PidFile=${dir}/sshd.pid`,
  ];
  execFileSync(SSHD, ['-t', ...args]);
  const child = spawn(SSHD, ['-D', '-e', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  const stop = async () => {
    await stopChild(child);
    if (ownPrivsep) rmdirSync(PRIVSEP_DIR);
  };
  const reload = async () => {
    child.kill('SIGHUP');
    // sshd closes its socket and executes itself again: wait for the new one.
    await delay(200);
    await waitForPort(port, child, () => log);
  };
  try {
    await waitForPort(port, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, reload, stop };
}

export interface LoginResult {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export function sshArgs(port: number, user: string, privateKey: string, command: string): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    privateKey,
    '-p',
    String(port),
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'ConnectTimeout=10',
    `${user}@127.0.0.1`,
    command,
  ];
}

/** `ssh -i key user@127.0.0.1 command` with no config, agent or known hosts of this machine. */
export function sshLogin(port: number, user: string, privateKey: string, command = 'true'): Promise<LoginResult> {
  return new Promise((resolve) => {
    execFile(
      'ssh',
      sshArgs(port, user, privateKey, command),
      { encoding: 'utf8', timeout: 30_000 },
      (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }),
    );
  });
}

/** An ssh session left running (`sleep`), to see it ended; resolves when the client exits. */
export function sshSession(
  port: number,
  user: string,
  privateKey: string,
  seconds: number,
): { readonly child: ChildProcess; readonly exited: Promise<number | null> } {
  const child = spawn('ssh', sshArgs(port, user, privateKey, `echo started; exec sleep ${seconds}`), {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const giveUp = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < giveUp) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}): ${log()}`);
    if (await accepts(port)) return;
    await delay(50);
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port} within ${STARTUP_TIMEOUT_MS} ms: ${log()}`);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
