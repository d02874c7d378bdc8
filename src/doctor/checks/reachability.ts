import { messageOf } from '../../core/errors.ts';
import { type Check, fail, type Finding, ok } from '../check.ts';
import type { DoctorContext } from '../context.ts';
import { endpointOf, portOf, type Service } from '../endpoints.ts';
import { proxyFor } from '../proxy.ts';

/**
 * Can this host open a TLS connection to an AWS endpoint, the way the agent
 * would (through the proxy unless NO_PROXY exempts the host)? Nothing is sent
 * but the handshake; everything is bounded by the doctor's timeout.
 */
export function reachabilityCheck(service: Service, title: string): Check {
  return {
    id: `${service}-endpoint`,
    title,
    async run(context) {
      let region: string;
      try {
        region = await context.region();
      } catch (error) {
        return fail(messageOf(error), 'set AWS_REGION in /etc/ecs-host-agent/agent.env');
      }
      const endpoint = endpointOf(service, region, context.config);
      const hostname = endpoint.url.hostname.replace(/^\[|\]$/g, '');
      const proxy = proxyFor(await context.proxy(), hostname);
      const port = portOf(endpoint.url);
      const route = `${hostname}:${port} ${proxy ? `via the proxy ${new URL(proxy).host}` : 'directly'}`;
      const unreachable =
        `allow outbound HTTPS to ${hostname} (security group, network ACL, a NAT ` +
        `gateway or a VPC endpoint), or set HTTPS_PROXY in /etc/ecs/ecs.config (${endpoint.key} ` +
        `overrides the endpoint)`;
      if (endpoint.url.protocol === 'http:') return plainHttp(context, endpoint.url, route, unreachable);
      try {
        const result = await context.host.tlsProbe({ host: hostname, port, proxy, timeoutMs: context.timeoutMs });
        if (result.certificateError) {
          return fail(
            `${route}: TLS handshake done, but the certificate is not trusted (${result.certificateError})`,
            'a TLS-intercepting proxy or a wrong endpoint: exempt AWS endpoints from interception or ' +
              'add its CA to the system trust store',
          );
        }
        return ok(`${route}: TLS handshake done (${result.protocol ?? 'TLS'})`);
      } catch (error) {
        return fail(`${route}: ${messageOf(error)}`, unreachable);
      }
    },
  };
}

/** An http:// override (a local emulator or a plain-HTTP VPC proxy): any HTTP answer proves the route. */
async function plainHttp(context: DoctorContext, url: URL, route: string, fix: string): Promise<Finding> {
  try {
    const response = await context.host.http({ method: 'GET', url: url.href, timeoutMs: context.timeoutMs });
    return ok(`${route}: answered HTTP ${response.status} (plain HTTP, no TLS)`);
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? `: ${messageOf(error.cause)}` : '';
    return fail(`${route}: ${messageOf(error)}${cause}`, fix);
  }
}
