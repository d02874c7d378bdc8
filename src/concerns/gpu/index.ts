import type { Concern, StepAction } from '../../core/concern.ts';
import { performSteps } from '../../core/step.ts';
import { packageManagerOf } from '../../os/facts.ts';
import type { PackageManagerName } from '../../os/support.ts';
import { localCommand } from '../../block/run.ts';
import { daemonJsonHasNvidiaRuntime, NVIDIA_RUNTIME, runningDockerRuntimes } from './docker-runtime.ts';

/**
 * On a host with an NVIDIA GPU (and GPU_SUPPORT=auto) the ecs-config concern
 * writes ECS_ENABLE_GPU_SUPPORT=true; this one gives Docker what the ECS agent
 * then asks of it: the NVIDIA container toolkit, installed only from the
 * repositories the system already has, and the nvidia runtime registered with
 * Docker (nvidia-ctk), which Docker loads when it restarts. The NVIDIA driver
 * itself is built for the running kernel and stays the operator's (or the
 * image's): its absence is reported, not fixed.
 */
export const TOOLKIT = 'nvidia-container-toolkit';
/** Present while the NVIDIA kernel module is loaded. */
const DRIVER_VERSION_FILE = '/proc/driver/nvidia/version';
const DOCKER_UNIT = 'docker.service';
const CONFIGURE_RUNTIME = ['runtime', 'configure', '--runtime=docker'];
// try-restart leaves a stopped Docker stopped (it reads daemon.json when it starts); --no-block as for every unit
// start.
const RESTART_DOCKER = ['try-restart', '--no-block', '--', DOCKER_UNIT];

/**
 * Where the toolkit comes from when the system's repositories lack it (no addresses: they change, NVIDIA's guide has
 * them).
 */
const REPOSITORY_HINTS: Readonly<Record<PackageManagerName, string>> = {
  apt:
    "add NVIDIA's container toolkit apt repository as NVIDIA's Container Toolkit install guide " +
    'shows (its signing key under /usr/share/keyrings, a list file in /etc/apt/sources.list.d)',
  dnf:
    "on Amazon Linux 2023, `dnf install -y nvidia-release` adds Amazon Linux's NVIDIA repository " +
    "(where the ECS GPU-optimized AMI gets it); elsewhere add NVIDIA's container toolkit .repo file " +
    'to /etc/yum.repos.d',
  yum: "add NVIDIA's container toolkit .repo file to /etc/yum.repos.d",
  zypper:
    "add NVIDIA's container toolkit repository with `zypper addrepo` and its .repo file, as " +
    "NVIDIA's Container Toolkit install guide shows",
};

export interface GpuFacts {
  readonly toolkit: { readonly installed: string | null; readonly available: string | null };
  readonly daemonJsonHasRuntime: boolean;
  /** null when no Docker answers. */
  readonly runningRuntimes: readonly string[] | null;
  readonly driverLoaded: boolean;
}

export type GpuAction = StepAction<'install' | 'configure-runtime' | 'restart-docker'>;

export const gpuConcern: Concern<GpuFacts, GpuAction> = {
  name: 'gpu',
  // An image root has no devices (nvidiaGpus is null there): a GPU image is baked differently (README).
  enabled: ({ config, os, host }) => host.root === '/' && config.GPU_SUPPORT === 'auto' && (os.nvidiaGpus ?? 0) > 0,
  async gather(context) {
    const packages = packageManagerOf(context);
    const installed = await packages.installedVersion(TOOLKIT);
    return {
      toolkit: { installed, available: installed === null ? await packages.availableVersion(TOOLKIT) : null },
      daemonJsonHasRuntime: await daemonJsonHasNvidiaRuntime(context.host),
      runningRuntimes: await runningDockerRuntimes(context.host),
      driverLoaded: (await context.host.stat(DRIVER_VERSION_FILE)) !== null,
    };
  },
  plan(facts, context) {
    if (outOfReach(facts.toolkit)) return [];
    const actions: GpuAction[] = [];
    if (facts.toolkit.installed === null) {
      const summary = `install the NVIDIA container toolkit (${TOOLKIT} ${facts.toolkit.available})`;
      const install = packageManagerOf(context).installCommands([TOOLKIT]);
      actions.push({ kind: 'install', summary, steps: [{ install }] });
    }
    if (!runtimeRegistered(facts)) {
      const summary =
        `register the ${NVIDIA_RUNTIME} runtime with Docker in /etc/docker/daemon.json ` +
        `(ECS starts GPU containers with it)`;
      const configure = localCommand('nvidia-ctk', CONFIGURE_RUNTIME);
      actions.push({ kind: 'configure-runtime', summary, steps: [{ run: configure }] });
    }
    if (context.os.systemdRunning && dockerMustReload(facts)) {
      const summary =
        `restart ${DOCKER_UNIT} if it runs (without blocking), so it loads the ` +
        `${NVIDIA_RUNTIME} runtime; its containers restart too`;
      actions.push({ kind: 'restart-docker', summary, steps: [{ run: localCommand('systemctl', RESTART_DOCKER) }] });
    }
    return actions;
  },
  warnings(facts, context) {
    const warnings: string[] = [];
    if (outOfReach(facts.toolkit)) {
      warnings.push(
        `an NVIDIA GPU is present but no configured repository provides ${TOOLKIT}, which ECS needs ` +
          `to give containers GPUs; ` +
          `it comes from NVIDIA's repository: ${REPOSITORY_HINTS[packageManagerOf(context).name]}; ` +
          'then run apply again (or set GPU_SUPPORT=no)',
      );
    }
    if (!facts.driverLoaded) {
      warnings.push(
        `the NVIDIA driver is not loaded (no ${DRIVER_VERSION_FILE}): ecs-init reads the GPUs ` +
          `through it, so this instance registers without GPUs; ` +
          'install the driver for the running kernel (the agent does not), or bake it into the image',
      );
    }
    if (!context.os.systemdRunning && runningKnowsRuntime(facts) === false) {
      warnings.push(
        `the running Docker does not know the ${NVIDIA_RUNTIME} runtime and systemd does ` +
          `not manage it here: restart dockerd yourself`,
      );
    }
    return warnings;
  },
  apply: (action, context) => performSteps(context.host, action.steps, packageManagerOf(context)),
};

/** Neither installed nor offered by a configured repository. */
function outOfReach(toolkit: GpuFacts['toolkit']): boolean {
  return toolkit.installed === null && toolkit.available === null;
}

/**
 * In daemon.json, or in a running Docker that got it another way (dockerd
 * --add-runtime): daemon.json is then left alone, as dockerd rejects
 * settings given both as a flag and in the file.
 */
function runtimeRegistered(facts: GpuFacts): boolean {
  return facts.daemonJsonHasRuntime || runningKnowsRuntime(facts) === true;
}

/** daemon.json is about to change, or a running Docker started before it did. */
function dockerMustReload(facts: GpuFacts): boolean {
  return !runtimeRegistered(facts) || runningKnowsRuntime(facts) === false;
}

/** null when no Docker answers. */
function runningKnowsRuntime(facts: GpuFacts): boolean | null {
  return facts.runningRuntimes === null ? null : facts.runningRuntimes.includes(NVIDIA_RUNTIME);
}
