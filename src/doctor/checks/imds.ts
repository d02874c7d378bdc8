import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok, warn } from '../check.ts';

/**
 * IMDSv2: a session token, then the instance identity. The agent runs with
 * host networking, one hop from IMDS; the hop limit of the token reply is not
 * visible from the host, so the evidence says when it matters.
 */
const HOP_LIMIT_NOTE =
  "token issued to the host (1 hop); containers on a bridge network need the instance's " +
  'HttpPutResponseHopLimit at 2 or more';

export const imds: Check = {
  id: 'imds',
  title: 'IMDSv2 reachable, instance identity and region',
  async run(context) {
    let identity;
    try {
      identity = await context.identity();
    } catch (error) {
      return fail(
        messageOf(error),
        'enable the instance metadata service with IMDSv2 (HttpEndpoint=enabled, ' +
          'HttpTokens=required) and allow 169.254.169.254 in NO_PROXY and the firewall',
      );
    }
    const evidence =
      `instance ${identity.instanceId} (${identity.instanceType}, ` +
      `${identity.imageId}) of account ${identity.accountId} in ${identity.region}; ${HOP_LIMIT_NOTE}`;
    const configured = context.config.AWS_REGION;
    if (configured !== null && configured !== identity.region) {
      return warn(`${evidence}; but AWS_REGION is ${configured}`, `remove AWS_REGION or set it to ${identity.region}`);
    }
    return ok(evidence);
  },
};
