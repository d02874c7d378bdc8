import { ExitCode, UsageError } from '../core/errors.ts';
import { MetricsRunner } from '../jobs/metrics.ts';
import { renderSample } from '../metrics/render.ts';
import type { Sample } from '../metrics/sample.ts';
import { Sampler, samplerSettings } from '../metrics/sampler.ts';
import type { CommandImplementation } from './command.ts';
import type { Context } from './context.ts';

export const metrics: CommandImplementation = {
  async run(context, flags, operands) {
    if (flags.once !== true)
      throw new UsageError('metrics: pass --once (the daemon samples every METRICS_INTERVAL by itself)');
    if (operands.length > 0) throw new UsageError(`metrics: unexpected ${JSON.stringify(operands[0])}`);
    if (context.host.root !== '/')
      throw new UsageError('metrics samples the running system; an image root (--root) has none');
    const sample = flags.deliver === true ? await sampleAndDeliver(context) : await sampleOnce(context);
    context.out(
      context.json ? JSON.stringify(sample, null, 2) : renderSample(sample, context.config.METRICS_DOCKER_SOCKET),
    );
    return ExitCode.ok;
  },
};

async function sampleOnce(context: Context): Promise<Sample> {
  const sampler = new Sampler(context.host, samplerSettings(context.config));
  try {
    return await sampler.sample();
  } finally {
    await sampler.close();
  }
}

async function sampleAndDeliver(context: Context): Promise<Sample> {
  const runner = await MetricsRunner.create(context.host, context.config, context.logger);
  try {
    const step = await runner.step();
    context.logger.info(step.summary, { destination: step.destination });
    return step.sample;
  } finally {
    await runner.close();
  }
}
