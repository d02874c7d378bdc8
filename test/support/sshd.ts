/**
 * A real sshd on 127.0.0.1 with its own config, host key and PID file in a
 * scratch directory, for key logins of synced users. It authenticates against
 * this machine's own accounts, so tests using it create (and remove) real
 * users. stop() kills it by PID.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

import { freePort, stopChild } from './moto.ts';
import { requireRoot } from './scratch.ts';

const SSHD = '/usr/sbin/sshd';
/** sshd's privilege separation directory; Debian creates it in the unit, which does not run here. */
const PRIVSEP_DIR = '/run/sshd';
const STARTUP_TIMEOUT_MS = 15_000;

export interface Sshd {
  readonly port: number;
  stop(): Promise<void>;
}

export async function startSshd(dir: string): Promise<Sshd> {
  requireRoot();
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server (see test/support/setup-system.ts)`);
  const ownPrivsep = !existsSync(PRIVSEP_DIR);
  if (ownPrivsep) mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', `${dir}/host_key`]);
  const port = await freePort();
  const config = `${dir}/sshd_config`;
  writeFileSync(config, sshdConfig(dir, port));
  execFileSync(SSHD, ['-t', '-f', config]);
  const child = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  const stop = async () => {
    await stopChild(child);
    if (ownPrivsep) rmdirSync(PRIVSEP_DIR);
  };
  try {
    await waitForPort(port, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, stop };
}

function sshdConfig(dir: string, port: number): string {
  return [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${dir}/host_key`,
    `PidFile ${dir}/sshd.pid`,
    'AuthorizedKeysFile .ssh/authorized_keys',
    'StrictModes yes',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin no',
    'UsePAM yes',
    '',
  ].join('\n');
}

export interface LoginResult {
  readonly ok: boolean;
  readonly stderr: string;
}

/** `ssh -i key user@127.0.0.1 true` with no config, agent or known hosts of this machine. */
export function sshLogin(port: number, user: string, privateKey: string, command = 'true'): Promise<LoginResult & { readonly stdout: string }> {
  const args = [
    '-F', '/dev/null', '-i', privateKey, '-p', String(port),
    '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes',
    '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'ConnectTimeout=10',
    `${user}@127.0.0.1`, command,
  ];
  return new Promise((resolve) => {
    execFile('ssh', args, { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }));
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const giveUp = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < giveUp) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`sshd exited (${child.exitCode ?? child.signalCode}): ${log()}`);
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
