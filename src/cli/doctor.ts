import { probeControlEndpoint } from '../control/client.ts';
import { ExitCode, UsageError } from '../core/errors.ts';
import { CHECKS } from '../doctor/checks/index.ts';
import { createDoctorContext } from '../doctor/context.ts';
import { counts, renderReports, runChecks } from '../doctor/run.ts';
import type { CommandImplementation } from './command.ts';

export const doctor: CommandImplementation = {
  async run(context, _flags, operands) {
    if (operands.length > 0) throw new UsageError(`doctor: unexpected ${JSON.stringify(operands[0])}`);
    if (context.host.root !== '/')
      throw new UsageError('doctor examines the running system; an image root (--root) has nothing running');
    // The agent's environment carries the operator's proxy settings, as it does for ecs-init.
    const doctorContext = createDoctorContext({
      host: context.host,
      config: context.config,
      env: process.env,
      controlProbe: (config) => probeControlEndpoint(context.host, config),
    });
    const reports = await runChecks(CHECKS, doctorContext);
    const tally = counts(reports);
    context.out(context.json ? JSON.stringify({ checks: reports, summary: tally }, null, 2) : renderReports(reports));
    return tally.fail > 0 ? ExitCode.failed : ExitCode.ok;
  },
};
