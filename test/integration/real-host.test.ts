import assert from 'node:assert/strict';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { test } from 'node:test';

import { CommandError, MissingToolError } from '../../src/core/errors.ts';
import { RealHost } from '../../src/host/real-host.ts';
import { DEBIAN_ROOT } from '../support/paths.ts';
import { pollUntil } from '../support/poll.ts';
import { requireRoot, scratchDir } from '../support/scratch.ts';

test('writeFileAtomic writes mode and owner exactly and leaves no temp file', async (t) => {
  requireRoot();
  const root = scratchDir(t);
  const host = new RealHost(root);
  await host.mkdir('/etc/ecs');
  await host.writeFileAtomic('/etc/ecs/ecs.config', 'ECS_CLUSTER=a\n', { mode: 0o600, uid: 65534, gid: 65534 });
  const info = statSync(`${root}/etc/ecs/ecs.config`);
  assert.equal(info.mode & 0o7777, 0o600);
  assert.equal(info.uid, 65534);
  assert.deepEqual(readdirSync(`${root}/etc/ecs`), ['ecs.config']);
  await host.writeFileAtomic('/etc/ecs/ecs.config', 'ECS_CLUSTER=b\n');
  assert.equal(statSync(`${root}/etc/ecs/ecs.config`).mode & 0o7777, 0o600, 'an unspecified mode keeps the old one');
  assert.equal(readFileSync(`${root}/etc/ecs/ecs.config`, 'utf8'), 'ECS_CLUSTER=b\n');
});

test('writeFileAtomic replaces a symlink instead of writing through it', async (t) => {
  const root = scratchDir(t);
  const outside = `${scratchDir(t)}/victim`;
  writeFileSync(outside, 'precious');
  symlinkSync(outside, `${root}/link`);
  await new RealHost('/').writeFileAtomic(`${root}/link`, 'new');
  assert.equal(readFileSync(outside, 'utf8'), 'precious');
  assert.equal(lstatSync(`${root}/link`).isFile(), true);
});

test('a failed write leaves the old file and no temp file', async (t) => {
  const root = scratchDir(t);
  const host = new RealHost(root);
  await host.writeFileAtomic('/f', 'old');
  await assert.rejects(host.writeFileAtomic('/missing-dir/f', 'new'), { code: 'ENOENT' });
  assert.deepEqual(readdirSync(root), ['f']);
});

test('under an image root, reads cannot escape through symlinks', async (t) => {
  const root = scratchDir(t);
  symlinkSync('../../../../../../etc/hostname', `${root}/hostname`);
  await assert.rejects(new RealHost(root).readText('/hostname'), /escapes the image root/);
});

test('exec runs without a shell, with the fixed environment, and reports exit status', async () => {
  const host = new RealHost('/');
  const result = await host.exec('printf', ['%s|', '$HOME', '; rm -rf /', '--'], { target: 'local' });
  assert.equal(result.stdout, '$HOME|; rm -rf /|--|');
  assert.equal((await host.exec('false', [])).exitCode, 1);
  assert.equal((await host.exec('sh', ['-c', 'echo $LC_ALL'])).stdout, 'C\n');
});

test('exec of a missing program or past its timeout is an error naming the command', async () => {
  const host = new RealHost('/');
  await assert.rejects(host.exec('no-such-program-xyz', ['a']), /no-such-program-xyz a could not be started/);
  await assert.rejects(host.exec('sleep', ['5'], { timeoutMs: 100 }), /sleep 5 timed out after 100 ms/);
});

test('a command killed by a signal is reported as killed, naming the signal, not as unstartable', async () => {
  const host = new RealHost('/');
  const killedBy = (signal: string, message: RegExp) => (error: unknown) =>
    error instanceof CommandError &&
    error.signal === signal &&
    error.exitStatus === undefined &&
    message.test(error.message);
  await assert.rejects(
    host.exec('sh', ['-c', 'echo out of memory >&2; kill -KILL $$']),
    killedBy('SIGKILL', /^sh -c echo out of memory >&2; kill -KILL \$\$ was killed by SIGKILL: out of memory$/),
  );
  // Killed by another process, as the OOM killer or an operator would.
  const killedByAnother = host.exec('sh', ['-c', 'sh -c "kill -TERM \\$PPID"; sleep 60']);
  await assert.rejects(killedByAnother, killedBy('SIGTERM', /was killed by SIGTERM$/));
  const unstartable = (error: unknown) => error instanceof CommandError && error.signal === undefined;
  await assert.rejects(host.exec('no-such-program-xyz', []), unstartable);
  await assert.rejects(host.exec('no-such-program-xyz', []), /could not be started \(ENOENT\)/);
  const status = (await host.exec('sh', ['-c', 'exit 137'])).exitCode;
  assert.equal(status, 137, 'an exit status of 128+9 is only an exit status');
});

test('onLine gets each stdout line as it comes; terminate sends SIGTERM to the command alone and waits', async () => {
  const host = new RealHost('/');
  const lines: string[] = [];
  const streamed = await host.exec('sh', ['-c', 'echo one; echo two >&2; printf "two\\nlast"'], {
    target: 'local',
    onLine: (line) => lines.push(line),
  });
  assert.deepEqual(lines, ['one', 'two', 'last']);
  assert.equal(streamed.stdout, '', 'the lines went to onLine, not into the result');
  assert.equal(streamed.stderr, 'two\n');

  // A command that stops in order on SIGTERM, while a child in its process group must not be signalled.
  const stop = new AbortController();
  const script = [
    'sleep 30 & child=$!',
    'trap \'echo "stopping, child $child alive: $(kill -0 $child && echo yes)"; kill $child; exit 3\' TERM',
    'echo ready',
    'wait',
  ].join('\n');
  const said: string[] = [];
  const running = host.exec('sh', ['-c', script], {
    target: 'local',
    terminate: stop.signal,
    onLine: (line) => {
      said.push(line);
      if (line === 'ready') stop.abort();
    },
  });
  const result = await running;
  assert.equal(result.exitCode, 3, 'it exited by itself, after its own cleanup');
  assert.match(said.join('\n'), /^ready\nstopping, child \d+ alive: yes$/);
});

test('exec hands input on stdin, sets env over the fixed environment, and runs in cwd', async (t) => {
  const host = new RealHost('/');
  assert.equal((await host.exec('cat', [], { input: 'a\nb' })).stdout, 'a\nb');
  const unread = await host.exec('true', [], { input: 'x'.repeat(1 << 20) });
  assert.equal(unread.exitCode, 0, 'input the command does not read is no error (EPIPE)');

  const proxy = process.env.https_proxy;
  process.env.https_proxy = 'http://127.0.0.1:9';
  process.env.ECS_HOST_AGENT_NOT_PASSED = 'secret';
  t.after(() => {
    if (proxy === undefined) delete process.env.https_proxy;
    else process.env.https_proxy = proxy;
    delete process.env.ECS_HOST_AGENT_NOT_PASSED;
  });
  const shown = 'echo "$PATH|$LC_ALL|$https_proxy|$EXTRA|${ECS_HOST_AGENT_NOT_PASSED-unset}|${HOME-unset}"';
  const env = (await host.exec('sh', ['-c', shown], { env: { EXTRA: 'x y', LC_ALL: 'C.UTF-8' } })).stdout;
  assert.equal(
    env,
    '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|C.UTF-8|http://127.0.0.1:9|x y|unset|unset\n',
  );

  const dir = scratchDir(t);
  assert.equal((await host.exec('pwd', [], { cwd: dir })).stdout, `${dir}\n`);
  const missingCwd = host.exec('pwd', [], { cwd: `${dir}/missing` });
  await assert.rejects(
    missingCwd,
    (error: unknown) =>
      error instanceof CommandError &&
      !(error instanceof MissingToolError) &&
      /^pwd could not be started \(ENOENT\)$/.test(error.message),
  );
  writeFileSync(`${dir}/not-executable`, '#!/bin/sh\n', { mode: 0o644 });
  await assert.rejects(host.exec(`${dir}/not-executable`, [], { target: 'local' }), /could not be started \(EACCES\)$/);
});

test('output is decoded as UTF-8 across reads; onLine splits on \\n and \\r\\n and keeps empty lines', async () => {
  const host = new RealHost('/');
  const split =
    "printf '\\342\\202'; sleep 0.2; printf '\\254\\n'; printf '\\342' >&2; sleep 0.2; printf '\\202\\254' >&2";
  const result = await host.exec('sh', ['-c', split]);
  assert.deepEqual([result.stdout, result.stderr], ['€\n', '€']);
  const lines: string[] = [];
  await host.exec('sh', ['-c', "printf 'a\\r\\n\\nb\\342'; sleep 0.2; printf '\\202\\254 c\\r\\n'"], {
    onLine: (line) => lines.push(line),
  });
  assert.deepEqual(lines, ['a', '', 'b€ c']);
});

test("a stop kills the command's own process group and is reported as a stop, not a failure", async (t) => {
  const host = new RealHost('/');
  const group = (options = {}) => host.exec('sh', ['-c', 'cut -d" " -f5 /proc/$$/stat'], options);
  const ownGroup = Number(readFileSync('/proc/self/stat', 'utf8').split(' ')[4]);
  assert.equal(Number((await group()).stdout), ownGroup, "a plain command stays in the agent's group");
  const withSignal = await group({ signal: new AbortController().signal });
  assert.notEqual(Number(withSignal.stdout), ownGroup, 'a stoppable command has a group of its own');

  const pidFile = `${scratchDir(t)}/pid`;
  const stop = new AbortController();
  const running = host.exec('sh', ['-c', `sleep 60 & echo $! > ${pidFile}; wait`], { signal: stop.signal });
  await pollUntil(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'the helper started');
  const helper = Number(readFileSync(pidFile, 'utf8'));
  stop.abort();
  await assert.rejects(running, { message: /^sh -c .* was stopped: the agent is stopping$/ });
  await pollUntil(() => !isAlive(helper), 'the helper in the stopped group gone', 10_000);
});

test('past its deadline: SIGTERM, then SIGKILL; a process holding the output does not hold the call', async (t) => {
  const host = new RealHost('/');
  const pidFile = `${scratchDir(t)}/pid`;
  t.after(() => {
    if (existsSync(pidFile)) killIfAlive(Number(readFileSync(pidFile, 'utf8')));
  });
  // Ignores SIGTERM, and leaves a child (which inherits that) holding stdout and stderr.
  const script = `trap "" TERM; sleep 60 & echo $! > ${pidFile}; wait`;
  await assert.rejects(host.exec('sh', ['-c', script], { timeoutMs: 300 }), /timed out after 300 ms$/);
  assert.ok(isAlive(Number(readFileSync(pidFile, 'utf8'))), 'the call ended while the child kept the pipes');
});

test('output past its limit stops the command, a clear error; an exception in onLine rejects the call', async () => {
  const host = new RealHost('/');
  await assert.rejects(host.exec('yes', []), { message: /^yes was stopped: its stdout passed 100000000 characters$/ });
  await assert.rejects(host.exec('cat', ['/dev/zero'], { onLine: () => {} }), /stdout passed 100000000 characters$/);
  const throwing = host.exec('sh', ['-c', 'echo one; echo two'], {
    onLine: (line) => {
      throw new Error(`cannot take ${line}`);
    },
  });
  await assert.rejects(throwing, { message: 'cannot take one' });
});

test("hostname is the kernel's nodename, under an image root too", async (t) => {
  const nodename = (await new RealHost('/').exec('uname', ['-n'])).stdout.trim();
  assert.ok(nodename.length > 0);
  assert.equal(new RealHost('/').hostname(), nodename);
  assert.equal(new RealHost(scratchDir(t)).hostname(), nodename);
});

test('package tools are retargeted at the image root: chroot dpkg-query sees the image, not this machine', async () => {
  requireRoot();
  assert.ok(
    statSync(`${DEBIAN_ROOT}/var/lib/dpkg/status`).isFile(),
    `debootstrap fixture missing at ${DEBIAN_ROOT}: run npm test (its setup builds it)`,
  );
  const image = new RealHost(DEBIAN_ROOT);
  const inImage = await image.exec('dpkg-query', ['-W', '-f', '${Package}\n', '--', 'docker.io']);
  assert.notEqual(inImage.exitCode, 0, 'docker.io is not in the minbase image');
  const onMachine = await new RealHost('/').exec('dpkg-query', ['-W', '-f', '${Package}\n', '--', 'dpkg']);
  assert.equal(onMachine.stdout, 'dpkg\n');
});

test('past its deadline an HTTP exchange fails with ETIMEDOUT, the server silent or stopping mid-body', async (t) => {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    if (request.url === '/half') {
      response.writeHead(200, { 'content-length': '100' });
      response.write('only part of the body');
    } // '/silent': no reply at all
  });
  server.on('connection', (socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const { port } = server.address() as AddressInfo;
  const host = new RealHost('/');
  for (const path of ['/silent', '/half']) {
    const started = Date.now();
    await assert.rejects(host.http({ url: `http://127.0.0.1:${port}${path}`, timeoutMs: 300 }), {
      code: 'ETIMEDOUT',
      message: /^no complete reply from http:\/\/127\.0\.0\.1:\d+ within 300 ms$/,
    });
    assert.ok(Date.now() - started < 5000, `${path}: the deadline ended the exchange`);
  }
});

test('listKernelDirectory lists the names readdir sorts, below the image root when there is one', async (t) => {
  const host = new RealHost('/');
  assert.deepEqual([...(await host.listKernelDirectory('/sys/class'))].sort(), await host.readdir('/sys/class'));
  const root = scratchDir(t);
  writeFileSync(`${root}/b`, '');
  writeFileSync(`${root}/a`, '');
  assert.deepEqual([...(await new RealHost(root).listKernelDirectory('/'))].sort(), ['a', 'b']);
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

function killIfAlive(pid: number): void {
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}
