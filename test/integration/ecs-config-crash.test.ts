import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import { RealHost } from '../../src/host/real-host.ts';
import { scratchDir } from '../support/scratch.ts';

/**
 * Nothing lost, nothing left: the agent's atomic writes killed (SIGKILL, by strace fault
 * injection) at every system call they make, then run again. After each kill the file is either
 * the old or the new one, whole; a temporary file left behind has the recognisable name
 * .NAME.PID-START.RANDOM.tmp; and the next write removes it, since its writer is gone.
 */
const WRITER = fileURLToPath(new URL('./ecs-config-writer.ts', import.meta.url));
/** The syscalls of a write: create, write, chmod/chown, fsync, close, rename, the directory's fsync. */
const TRACED = ['openat', 'write', 'pwrite64', 'fchmod', 'fchown', 'fsync', 'fdatasync', 'close', 'rename', 'unlink'];
const TEMP = /^\..+\.\d+-\d+\.[0-9a-f]{8}\.tmp$/;
const OLD_CONFIG = '# hand-written\nECS_CLUSTER=old\n';
const AGENT_ENV = 'ECS_CLUSTER=prod\nECS_ENGINE_AUTH_DATA={"https://r.example.test":{"auth":"c2VjcmV0"}}\n';
const NEW_CONFIG =
  '# hand-written\nECS_CLUSTER=prod\nECS_ENGINE_AUTH_DATA={"https://r.example.test":{"auth":"c2VjcmV0"}}\n';

interface Writer {
  readonly args: readonly string[];
  /** The directories its writes go to, on this machine. */
  readonly directories: readonly string[];
}

function requireStrace(): void {
  const probe = spawnSync('strace', ['-V']);
  if (probe.status !== 0) throw new Error('strace is missing: install it (apt-get install strace)');
}

/** Starts the writer, attaches strace to all its threads once it is ready, then lets it write. */
async function runWriter(
  writer: Writer,
  straceArgs: readonly string[] | null,
): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const child = spawn(process.execPath, [WRITER, ...writer.args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '', UV_THREADPOOL_SIZE: '1' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  let tracer: ChildProcess | null = null;
  if (straceArgs !== null) {
    tracer = spawn('strace', ['-f', '-qq', ...straceArgs, '-p', String(child.pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await waitForTracer(child.pid as number);
  }
  child.stdin?.write('go\n');
  const result = await Promise.race([
    exited,
    delay(60_000, undefined, { ref: false }).then(() => ({ code: null, signal: 'timeout' })),
  ]);
  if (result.signal === 'timeout') child.kill('SIGKILL');
  if (tracer !== null && tracer.exitCode === null) await new Promise((resolve) => tracer.once('exit', resolve));
  return { ...result, stderr };
}

/** Every thread of the process traced (TracerPid set), within a bounded wait. */
async function waitForTracer(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const tasks = readdirSync(`/proc/${pid}/task`);
    const traced = tasks.every(
      (task) => !/^TracerPid:\s+0$/m.test(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8')),
    );
    if (traced) return;
    await delay(25);
  }
  throw new Error(`strace did not attach to ${pid}`);
}

interface CrashPoint {
  readonly syscall: string;
  /** Which invocation of that syscall, counted per thread as strace counts for when=. */
  readonly nth: number;
  readonly line: string;
}

/**
 * A traced run: each syscall of the writes (those naming one of its temporary files, the files
 * themselves or their directories) becomes a crash point, unless another thread reaches the same
 * count of that syscall first (a kill there would land elsewhere).
 */
async function crashPoints(t: TestContext, writer: Writer): Promise<CrashPoint[]> {
  const log = `${scratchDir(t)}/trace.log`;
  const run = await runWriter(writer, ['-y', '-e', `trace=${TRACED.join(',')}`, '-o', log]);
  assert.equal(run.code, 0, run.stderr);
  const counts = new Map<string, number>();
  const reached = new Map<string, number>();
  const points: CrashPoint[] = [];
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const match = /^(\d+)\s+(\w+)\(/.exec(line);
    if (!match) continue;
    const [, tid, syscall] = match as unknown as [string, string, string];
    const nth = (counts.get(`${tid} ${syscall}`) ?? 0) + 1;
    counts.set(`${tid} ${syscall}`, nth);
    const first = !reached.has(`${syscall} ${nth}`);
    reached.set(`${syscall} ${nth}`, 1);
    if (writer.directories.some((directory) => line.includes(directory)) && first) points.push({ syscall, nth, line });
  }
  return points;
}

function leftovers(directories: readonly string[]): string[] {
  return directories.flatMap((directory) =>
    existsSync(directory) ? readdirSync(directory).filter((name) => name.endsWith('.tmp')) : [],
  );
}

async function killAtEveryStep(
  t: TestContext,
  setUp: (dir: string) => Writer,
  check: (writer: Writer, phase: 'killed' | 'rerun') => void,
): Promise<number> {
  requireStrace();
  const points = await crashPoints(t, setUp(scratchDir(t)));
  assert.ok(points.length >= 7, `the writes make their syscalls: ${points.map((point) => point.line).join('\n')}`);
  let leftBehind = 0;
  for (const point of points) {
    const writer = setUp(scratchDir(t));
    const run = await runWriter(writer, [
      '-e',
      `trace=${point.syscall}`,
      '-e',
      `inject=${point.syscall}:signal=KILL:when=${point.nth}`,
      '-o',
      '/dev/null',
    ]);
    assert.equal(run.signal, 'SIGKILL', `killed at ${point.line}`);
    check(writer, 'killed');
    const left = leftovers(writer.directories);
    t.diagnostic(`killed at ${point.syscall} #${point.nth}: ${left.length === 0 ? 'nothing left' : left.join(', ')}`);
    for (const name of left) assert.match(name, TEMP, `a recognisable name after the kill at ${point.line}`);
    leftBehind += left.length > 0 ? 1 : 0;
    const rerun = await runWriter(writer, null);
    assert.equal(rerun.code, 0, rerun.stderr);
    check(writer, 'rerun');
    assert.deepEqual(leftovers(writer.directories), [], `the next write removed what the kill at ${point.line} left`);
  }
  return leftBehind;
}

test('ecs.config and its key record: killed at every syscall, old or new and whole, leftovers swept', async (t) => {
  const leftBehind = await killAtEveryStep(
    t,
    (dir) => {
      const root = `${dir}/root`;
      mkdirSync(`${root}/etc/ecs`, { recursive: true });
      writeFileSync(`${root}/etc/ecs/ecs.config`, OLD_CONFIG, { mode: 0o644 });
      return {
        args: ['ecs-config', root, AGENT_ENV],
        directories: [`${root}/etc/ecs`, `${root}/var/lib/ecs-host-agent`],
      };
    },
    (writer, phase) => {
      const root = writer.args[1] as string;
      const text = readFileSync(`${root}/etc/ecs/ecs.config`, 'utf8');
      if (phase === 'killed')
        assert.ok(text === OLD_CONFIG || text === NEW_CONFIG, `whole, old or new: ${JSON.stringify(text)}`);
      else {
        assert.equal(text, NEW_CONFIG);
        assert.equal(statSync(`${root}/etc/ecs/ecs.config`).mode & 0o777, 0o600);
        assert.deepEqual(
          JSON.parse(readFileSync(`${root}/var/lib/ecs-host-agent/ecs-config-keys.json`, 'utf8')).managedKeys,
          ['ECS_CLUSTER', 'ECS_ENGINE_AUTH_DATA'],
        );
      }
      for (const name of leftovers([`${root}/etc/ecs`])) {
        assert.equal(
          statSync(`${root}/etc/ecs/${name}`).mode & 0o777,
          0o600,
          'the credentials in a leftover stay 0600',
        );
      }
    },
  );
  assert.ok(leftBehind >= 2, `some kills leave a temporary file behind (${leftBehind}), so the sweep is exercised`);
});

test('authorized_keys in a home (no-follow writes): killed at every syscall, swept by the next write', async (t) => {
  const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKZ alice@example\n';
  const leftBehind = await killAtEveryStep(
    t,
    (dir) => {
      const home = `${dir}/home/alice`;
      mkdirSync(`${home}/.ssh`, { recursive: true, mode: 0o700 });
      writeFileSync(`${home}/.ssh/authorized_keys`, 'old\n', { mode: 0o600 });
      return { args: ['no-follow', home, KEY], directories: [`${home}/.ssh`] };
    },
    (writer, phase) => {
      const text = readFileSync(`${writer.args[1]}/.ssh/authorized_keys`, 'utf8');
      if (phase === 'killed') assert.ok(text === 'old\n' || text === KEY, JSON.stringify(text));
      else assert.equal(text, KEY);
    },
  );
  assert.ok(leftBehind >= 2, `some kills leave a temporary file behind (${leftBehind})`);
});

test("only gone writers' leftovers are removed: a live writer's stays, a reused PID does not protect", async (t) => {
  const dir = scratchDir(t);
  mkdirSync(`${dir}/etc/ecs`, { recursive: true });
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => sleeper.kill('SIGKILL'));
  const pid = sleeper.pid as number;
  await once(sleeper, 'spawn'); // running `sleep`, its start time in /proc
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
  const gone = spawnSync('true').pid as number;
  const names = {
    live: `.ecs.config.${pid}-${start}.0a0b0c0d.tmp`,
    liveOldFormat: `.ecs.config.${pid}.0a0b0c0e.tmp`,
    reusedPid: `.ecs.config.${pid}-${Number(start) + 1}.0a0b0c0f.tmp`,
    dead: `.ecs.config.${gone}-1.0a0b0c10.tmp`,
    deadOldFormat: `.ecs.config.${gone}.0a0b0c11.tmp`,
    otherFile: `.other.${gone}-1.0a0b0c12.tmp`,
    notOurs: '.ecs.config.backup.tmp',
  };
  for (const name of Object.values(names)) writeFileSync(`${dir}/etc/ecs/${name}`, 'partial');
  mkdirSync(`${dir}/etc/ecs/.ecs.config.${gone}-2.0a0b0c13.tmp`);
  await new RealHost(dir).writeFileAtomic('/etc/ecs/ecs.config', 'ECS_CLUSTER=prod\n');
  const left = readdirSync(`${dir}/etc/ecs`).sort();
  assert.deepEqual(
    left,
    [
      names.liveOldFormat,
      names.live,
      `.ecs.config.${gone}-2.0a0b0c13.tmp`,
      names.notOurs,
      names.otherFile,
      'ecs.config',
    ].sort(),
  );
});
