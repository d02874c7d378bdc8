import { createImds } from '../../aws/imds.ts';
import { messageOf } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Host } from '../../host/host.ts';

/**
 * Which instance the metrics are about, as CloudWatch dimensions and remote-write labels: the instance id from
 * IMDSv2, the configured cluster, and (when asked for) the Auto Scaling group from the instance metadata tags.
 * Read once and kept. Until IMDS answers, nothing is sent: a sample without its instance would be a series of
 * its own nobody alarms on, so it waits in the spool instead.
 */
export interface InstanceLabels {
  readonly instanceId: string;
  readonly cluster: string;
  /** The aws:autoscaling:groupName tag; null when not asked for, or the instance has none IMDS shows. */
  readonly autoScalingGroup: string | null;
}

export interface InstanceSettings {
  readonly imdsEndpoint: string;
  readonly cluster: string;
  readonly autoScalingGroup: boolean;
}

const IMDS_TIMEOUT_MS = 1000;
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const ASG_TAG_PATH = '/latest/meta-data/tags/instance/aws:autoscaling:groupName';
/** Auto Scaling group names: 1 to 255 characters, no control characters (CloudWatch takes up to 1024). */
const ASG_NAME = /^[^\p{Cc}]{1,255}$/u;

export class InstanceIdentity {
  readonly #host: Host;
  readonly #settings: InstanceSettings;
  readonly #logger: Logger;
  #labels: Promise<InstanceLabels> | null = null;

  constructor(host: Host, settings: InstanceSettings, logger: Logger) {
    this.#host = host;
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Rejects while IMDS does not answer (asked again on the next call). */
  get(): Promise<InstanceLabels> {
    this.#labels ??= this.#read().catch((error: unknown) => {
      this.#labels = null;
      throw new Error(`the instance id is not known yet: ${messageOf(error)}`);
    });
    return this.#labels;
  }

  async #read(): Promise<InstanceLabels> {
    const imds = createImds(this.#host, this.#settings.imdsEndpoint, IMDS_TIMEOUT_MS);
    const instanceId = (await imds.get('/latest/meta-data/instance-id')).trim();
    if (!INSTANCE_ID.test(instanceId))
      throw new Error(`IMDS returned an invalid instance-id ${JSON.stringify(instanceId.slice(0, 40))}`);
    const autoScalingGroup = this.#settings.autoScalingGroup ? await this.#autoScalingGroup(imds) : null;
    return { instanceId, cluster: this.#settings.cluster, autoScalingGroup };
  }

  /**
   * 404 when the instance has no such tag or does not expose tags in its metadata (InstanceMetadataTags); any
   * other failure is asked again later, so that a blip does not change the metrics' dimensions for good.
   */
  async #autoScalingGroup(imds: ReturnType<typeof createImds>): Promise<string | null> {
    try {
      const name = (await imds.get(ASG_TAG_PATH)).trim();
      if (ASG_NAME.test(name)) return name;
      this.#logger.warn(`IMDS returned an unusable aws:autoscaling:groupName tag; no AutoScalingGroupName dimension`);
    } catch (error) {
      if (!/answered HTTP 404$/.test(messageOf(error))) throw error;
      this.#logger.warn(
        'METRICS_CLOUDWATCH_ASG_DIMENSION=yes, but the instance metadata has no aws:autoscaling:groupName tag ' +
          '(not in an Auto Scaling group, or instance metadata tags are off): no AutoScalingGroupName dimension',
        { reason: messageOf(error) },
      );
    }
    return null;
  }
}
