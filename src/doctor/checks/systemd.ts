import { type Check, fail, ok } from '../check.ts';

export const systemd: Check = {
  id: 'systemd',
  title: 'systemd running',
  async run(context) {
    const { systemdRunning } = await context.os();
    if (systemdRunning) return ok('systemd is PID 1 (/run/systemd/system exists)');
    return fail(
      'systemd is not PID 1: the ecs and docker units cannot run',
      'boot the host with systemd as its init system',
    );
  },
};
