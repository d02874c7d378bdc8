import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok } from '../check.ts';

/** The ECS agent registers with the instance role's credentials; their values are never printed. */
const CREDENTIALS = '/latest/meta-data/iam/security-credentials/';
const FIX = 'attach an instance profile whose role has the AmazonEC2ContainerServiceforEC2Role policy';

export const instanceRole: Check = {
  id: 'instance-role',
  title: 'an instance role with credentials',
  async run(context) {
    let role: string;
    let reply: Record<string, unknown>;
    try {
      role = (await context.imds.get(CREDENTIALS)).split('\n')[0]?.trim() ?? '';
      if (!/^[\w+=,.@-]{1,128}$/.test(role))
        return fail(`IMDS names no instance role (${JSON.stringify(role.slice(0, 40))})`, FIX);
      reply = JSON.parse(await context.imds.get(`${CREDENTIALS}${role}`)) as Record<string, unknown>;
    } catch (error) {
      return fail(`no instance role credentials from IMDS: ${messageOf(error)}`, FIX);
    }
    const expiration = typeof reply.Expiration === 'string' ? Date.parse(reply.Expiration) : NaN;
    if (reply.Code !== 'Success' || typeof reply.AccessKeyId !== 'string' || Number.isNaN(expiration)) {
      return fail(`IMDS has no usable credentials for role ${role} (Code ${JSON.stringify(reply.Code ?? null)})`, FIX);
    }
    if (expiration <= context.host.now().getTime()) {
      return fail(
        `the credentials of role ${role} expired at ${new Date(expiration).toISOString()}`,
        'check the clock (clock-skew) and the instance profile',
      );
    }
    return ok(`role ${role}: credentials valid until ${new Date(expiration).toISOString()}`);
  },
};
