import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok, warn } from '../check.ts';
import { endpointOf } from '../endpoints.ts';

/**
 * AWS rejects signed requests whose time is more than 5 minutes off. The
 * Date header of any reply of the ECS endpoint is the reference; the host's
 * time is taken halfway through the request.
 */
const FAIL_SECONDS = 300;
const WARN_SECONDS = 30;
const FIX = 'run a time service (chrony or systemd-timesyncd; on EC2 the Amazon Time Sync Service at 169.254.169.123)';

export const clockSkew: Check = {
  id: 'clock-skew',
  title: 'clock in step with AWS',
  async run(context) {
    let url: URL;
    try {
      url = endpointOf('ecs', await context.region(), context.config).url;
    } catch (error) {
      return warn(`no endpoint to compare with: ${messageOf(error)}`, 'set AWS_REGION');
    }
    let served: number;
    let local: number;
    try {
      const before = context.host.now().getTime();
      const response = await context.host.http({ method: 'GET', url: url.href, timeoutMs: context.timeoutMs });
      local = (before + context.host.now().getTime()) / 2;
      served = Date.parse(response.headers.date ?? '');
    } catch (error) {
      return warn(
        `${url.host} did not answer directly: ${messageOf(error)}`,
        'see the ecs-endpoint check; with a proxy, compare the clock by hand ("chronyc tracking")',
      );
    }
    if (Number.isNaN(served))
      return warn(`${url.host} sent no Date header`, 'compare the clock by hand ("chronyc tracking")');
    // The header has whole seconds: up to one second of difference is no skew.
    const skew = Math.round((local - served) / 1000);
    const evidence = `the host clock is ${Math.abs(skew)} s ${skew >= 0 ? 'ahead of' : 'behind'} ${url.host}`;
    if (Math.abs(skew) >= FAIL_SECONDS) return fail(`${evidence}: AWS rejects its signed requests`, FIX);
    if (Math.abs(skew) >= WARN_SECONDS) return warn(evidence, FIX);
    return ok(evidence);
  },
};
