import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/**
 * Status, metrics and host events go to CONTROL_URL with the configured token: GET /v1/ping proves TLS trust and the
 * token without changing anything.
 */
export const controlEndpoint: Check = {
  id: 'control-endpoint',
  title: 'control endpoint reachable with the configured auth',
  async run(context) {
    const url = context.config.CONTROL_URL;
    if (url === null) return ok('CONTROL_URL is not set: nothing is reported');
    if (context.controlProbe === null)
      return warn(`CONTROL_URL is ${url}, but this build cannot probe it`, 'update ecs-host-agent');
    try {
      const probe = await context.controlProbe(context.config);
      if (probe.reachable) return ok(probe.evidence);
      return fail(
        probe.evidence,
        probe.fix ?? 'check CONTROL_URL, the token in CONTROL_TOKEN_FILE, and outbound HTTPS to the endpoint',
      );
    } catch (error) {
      return fail(`${url}: ${messageOf(error)}`, 'check CONTROL_URL and outbound HTTPS to the endpoint');
    }
  },
};
