import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { GpuDaemonJsonError } from '../../../src/concerns/gpu/docker-runtime.ts';
import { type GpuAction, gpuConcern, TOOLKIT } from '../../../src/concerns/gpu/index.ts';
import type { ConcernContext } from '../../../src/core/concern.ts';
import { loadConfig } from '../../../src/core/config/load.ts';
import { silentLogger } from '../../../src/core/logger.ts';
import { renderSteps } from '../../../src/core/step.ts';
import { gatherOsFacts } from '../../../src/os/facts.ts';
import type { ExecResult } from '../../../src/host/host.ts';
import type { FakeHost } from '../../support/fake-host.ts';
import { fakeHostFor } from '../../support/fixtures.ts';

const VERSION = '1.17.8-1';
const DAEMON_JSON = '/etc/docker/daemon.json';
const RUNC_ONLY = '{"io.containerd.runc.v2":{"path":"runc"},"runc":{"path":"runc"}}';
const WITH_NVIDIA = '{"nvidia":{"path":"nvidia-container-runtime"},"runc":{"path":"runc"}}';

interface ManagerCase {
  readonly fixture: string;
  readonly manager: string;
  /** The manager's answer to "what do your repositories offer?" */
  readonly offers: (available: boolean) => Partial<ExecResult>;
  readonly query: readonly [string, readonly string[]];
  readonly install: RegExp;
  readonly hint: RegExp;
}

const ZYPPER_FOUND =
  `<?xml version='1.0'?>\n<stream>\n<search-result ` +
  `version="0.0">\n<solvable-list>\n<solvable status="not-installed" name="${TOOLKIT}" ` +
  `kind="package" edition="${VERSION}" arch="x86_64" ` +
  `repository="NVIDIA"/>\n</solvable-list>\n</search-result>\n</stream>\n`;
const ZYPPER_NONE =
  `<?xml version='1.0'?>\n<stream>\n<message type="info">No matching items ` + `found.</message>\n</stream>\n`;

const CASES: readonly ManagerCase[] = [
  {
    fixture: 'ubuntu-22.04',
    manager: 'apt',
    offers: (available) => ({ stdout: available ? `${TOOLKIT}:\n  Installed: (none)\n  Candidate: ${VERSION}\n` : '' }),
    query: ['apt-cache', ['policy', '--', TOOLKIT]],
    install: /apt-get .*install -y --no-install-recommends -- nvidia-container-toolkit$/,
    hint: /apt repository .*sources\.list\.d/,
  },
  {
    fixture: 'amzn-2023',
    manager: 'dnf',
    offers: (available) => ({ stdout: available ? `${VERSION}\n\n` : '' }),
    query: [
      'dnf',
      ['repoquery', '--quiet', '--latest-limit', '1', '--queryformat', '%{version}-%{release}\\n', '--', TOOLKIT],
    ],
    install: /^dnf install -y -- nvidia-container-toolkit$/,
    hint: /dnf install -y nvidia-release/,
  },
  {
    fixture: 'sles-15.5',
    manager: 'zypper',
    offers: (available) => (available ? { stdout: ZYPPER_FOUND } : { exitCode: 104, stdout: ZYPPER_NONE }),
    query: [
      'zypper',
      ['--non-interactive', '--xmlout', 'search', '--match-exact', '--type', 'package', '--details', '--', TOOLKIT],
    ],
    install: /zypper --non-interactive install --no-recommends -- nvidia-container-toolkit$/,
    hint: /zypper addrepo/,
  },
];

interface HostOptions {
  readonly gpus?: number;
  readonly root?: string;
  readonly systemd?: boolean;
  readonly driverLoaded?: boolean;
  /** JSON of `docker info --format {{json .Runtimes}}`, or null when no Docker answers. */
  readonly dockerRuntimes?: string | null;
}

/** A host of the fixture with NVIDIA GPUs on its PCI bus and package tools that answer as a case says. */
function gpuHost(fixture: string, options: HostOptions = {}): FakeHost {
  const host = fakeHostFor(fixture, options.root ?? '/');
  for (let i = 0; i < (options.gpus ?? 1); i++) {
    host.putFile(`/sys/bus/pci/devices/0000:00:1${i}.0/vendor`, '0x10de\n');
    host.putFile(`/sys/bus/pci/devices/0000:00:1${i}.0/class`, '0x030200\n');
  }
  host.putFile('/sys/bus/pci/devices/0000:00:02.0/vendor', '0x1d0f\n');
  host.putFile('/sys/bus/pci/devices/0000:00:02.0/class', '0x030000\n');
  if (options.driverLoaded ?? true)
    host.putFile('/proc/driver/nvidia/version', 'NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.90.07\n');
  if (options.systemd) host.directories.add('/run/systemd/system');
  const runtimes = options.dockerRuntimes === undefined ? null : options.dockerRuntimes;
  return host
    .answer(
      'docker',
      runtimes === null ? { exitCode: 1, stderr: 'Cannot connect to the Docker daemon' } : { stdout: `${runtimes}\n` },
      ['info'],
    )
    .answer('apt-get', {}, ['-o', 'DPkg::Lock::Timeout=300', 'update']);
}

function offering(host: FakeHost, managerCase: ManagerCase, available: boolean): FakeHost {
  const [file, prefix] = managerCase.query;
  return host.answer(file, { exitCode: 0, stdout: '', stderr: '', ...managerCase.offers(available) }, prefix);
}

async function contextFor(host: FakeHost, env: Record<string, string> = {}): Promise<ConcernContext> {
  const config = loadConfig({ file: 'agent.env', fileText: null, env, flags: {} });
  return { host, config, os: await gatherOsFacts(host), logger: silentLogger, resetAgentState: false };
}

async function planAndWarnings(context: ConcernContext): Promise<{ actions: GpuAction[]; warnings: string[] }> {
  const facts = await gpuConcern.gather(context);
  return { actions: gpuConcern.plan(facts, context), warnings: gpuConcern.warnings?.(facts, context) ?? [] };
}

function installCommands(host: FakeHost): string[] {
  return host.commands().filter((command) => / install /.test(command));
}

for (const managerCase of CASES) {
  describe(`${managerCase.manager} (${managerCase.fixture})`, () => {
    test(
      'the repositories provide the toolkit: it is installed and the nvidia runtime registered ' + 'with Docker',
      async () => {
        const host = offering(gpuHost(managerCase.fixture), managerCase, true);
        const { actions, warnings } = await planAndWarnings(await contextFor(host));

        assert.deepEqual(
          actions.map((a) => a.kind),
          ['install', 'configure-runtime'],
          'systemd is not PID 1: no restart',
        );
        assert.equal(actions[0]?.summary, `install the NVIDIA container toolkit (${TOOLKIT} ${VERSION})`);
        assert.match(renderSteps(actions[0]?.steps ?? []).at(-1) ?? '', managerCase.install);
        assert.deepEqual(renderSteps(actions[1]?.steps ?? []), ['nvidia-ctk runtime configure --runtime=docker']);
        assert.deepEqual(warnings, []);
        assert.deepEqual(installCommands(host), [], 'planning installs nothing');
      },
    );

    test(
      'no configured repository provides it: nothing is planned, the operator is told where it ' + 'comes from',
      async () => {
        const host = offering(gpuHost(managerCase.fixture), managerCase, false);
        const { actions, warnings } = await planAndWarnings(await contextFor(host));

        assert.deepEqual(actions, []);
        assert.equal(warnings.length, 1);
        assert.match(
          warnings[0] ?? '',
          /no configured repository provides nvidia-container-toolkit.*NVIDIA's repository/,
        );
        assert.match(warnings[0] ?? '', managerCase.hint);
        assert.deepEqual(installCommands(host), []);
      },
    );
  });
}

describe('disabled', () => {
  test('on a host without an NVIDIA GPU', async () => {
    assert.equal(gpuConcern.enabled(await contextFor(gpuHost('amzn-2023', { gpus: 0 }))), false);
  });

  test('with GPU_SUPPORT=no (--no-gpu)', async () => {
    assert.equal(gpuConcern.enabled(await contextFor(gpuHost('amzn-2023'), { GPU_SUPPORT: 'no' })), false);
  });

  test('in an image root, which has no devices', async () => {
    assert.equal(gpuConcern.enabled(await contextFor(gpuHost('amzn-2023', { root: '/img' }))), false);
  });

  test('enabled on a GPU host with GPU_SUPPORT=auto', async () => {
    assert.equal(gpuConcern.enabled(await contextFor(gpuHost('amzn-2023'))), true);
  });
});

/** rpm -q answers before fakeHostFor's "not installed". */
function withToolkitInstalled(host: FakeHost, installed: () => boolean = () => true): FakeHost {
  host.execHandlers.unshift((file, args) =>
    file === 'rpm' && args.at(-1) === TOOLKIT && installed() ? { exitCode: 0, stdout: VERSION, stderr: '' } : undefined,
  );
  return host;
}

/** dnf, nvidia-ctk and systemctl that change the fake host as the real ones would. */
function withWorkingTools(host: FakeHost): FakeHost {
  let installed = false;
  let runtimes = RUNC_ONLY;
  host.execHandlers.unshift((file, args) => {
    if (file === 'docker' && args[0] === 'info') return { exitCode: 0, stdout: runtimes, stderr: '' };
    if (file === 'dnf' && args[0] === 'install') installed = true;
    else if (file === 'nvidia-ctk')
      host.putFile(
        DAEMON_JSON,
        JSON.stringify({
          'storage-driver': 'btrfs',
          runtimes: { nvidia: { args: [], path: 'nvidia-container-runtime' } },
        }),
      );
    else if (file === 'systemctl' && args[0] === 'try-restart') runtimes = WITH_NVIDIA;
    else return undefined;
    return { exitCode: 0, stdout: '', stderr: '' };
  });
  return withToolkitInstalled(host, () => installed);
}

test(
  'with systemd as PID 1 a running Docker is restarted without blocking, and after apply nothing ' + 'is left to do',
  async () => {
    const host = withWorkingTools(offering(gpuHost('amzn-2023', { systemd: true }), CASES[1] as ManagerCase, true));
    host.putFile(DAEMON_JSON, '{"storage-driver": "btrfs"}\n');
    const context = await contextFor(host);

    const actions = gpuConcern.plan(await gpuConcern.gather(context), context);
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['install', 'configure-runtime', 'restart-docker'],
    );
    assert.deepEqual(renderSteps(actions[2]?.steps ?? []), ['systemctl try-restart --no-block -- docker.service']);
    for (const action of actions) await gpuConcern.apply(action, context);

    assert.deepEqual(
      host.commands().filter((c) => /^(dnf install|nvidia-ctk|systemctl try-restart)/.test(c)),
      [
        'dnf install -y -- nvidia-container-toolkit',
        'nvidia-ctk runtime configure --runtime=docker',
        'systemctl try-restart --no-block -- docker.service',
      ],
    );
    assert.deepEqual(gpuConcern.plan(await gpuConcern.gather(context), context), []);
  },
);

test('a Docker that runs with the nvidia runtime from its own flags keeps its daemon.json', async () => {
  const host = withToolkitInstalled(gpuHost('amzn-2023', { systemd: true, dockerRuntimes: WITH_NVIDIA }));

  const { actions, warnings } = await planAndWarnings(await contextFor(host));

  assert.deepEqual(actions, []);
  assert.deepEqual(warnings, []);
  assert.equal(
    host.commands().some((c) => c.startsWith('dnf')),
    false,
    'an installed toolkit is not looked up in the repositories',
  );
});

test(
  'daemon.json has the runtime but the running Docker started before it: restart only, or a ' +
    'warning without systemd',
  async () => {
    for (const systemd of [true, false]) {
      const host = withToolkitInstalled(gpuHost('amzn-2023', { systemd, dockerRuntimes: RUNC_ONLY }));
      host.putFile(DAEMON_JSON, '{"runtimes": {"nvidia": {"path": "nvidia-container-runtime"}}}\n');

      const { actions, warnings } = await planAndWarnings(await contextFor(host));

      assert.deepEqual(
        actions.map((a) => a.kind),
        systemd ? ['restart-docker'] : [],
        `systemd ${systemd}`,
      );
      assert.equal(
        warnings.some((w) => /restart dockerd yourself/.test(w)),
        !systemd,
        `systemd ${systemd}`,
      );
    }
  },
);

test('a daemon.json that is not JSON stops the concern instead of being rewritten', async () => {
  const host = offering(gpuHost('amzn-2023'), CASES[1] as ManagerCase, true);
  host.putFile(DAEMON_JSON, '{"storage-driver": ');
  await assert.rejects(
    gpuConcern.gather(await contextFor(host)),
    (error) => error instanceof GpuDaemonJsonError && /daemon\.json is not valid JSON/.test(error.message),
  );
});

test('a GPU without a loaded NVIDIA driver is reported: ecs-init would register no GPUs', async () => {
  const host = offering(gpuHost('amzn-2023', { driverLoaded: false }), CASES[1] as ManagerCase, true);
  const { actions, warnings } = await planAndWarnings(await contextFor(host));
  assert.deepEqual(
    actions.map((a) => a.kind),
    ['install', 'configure-runtime'],
    'the toolkit is still installed',
  );
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0] ?? '',
    /NVIDIA driver is not loaded \(no \/proc\/driver\/nvidia\/version\).*registers without GPUs/,
  );
});
