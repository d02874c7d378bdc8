import { DAEMON_RETRIES, EventOutbox } from '../control/events.ts';
import { AgentError } from '../core/errors.ts';
import type { Job, JobResult } from '../daemon/job.ts';

/**
 * The daemon's `events` job: sends host events a command or another job
 * could not deliver (the endpoint was down). A run that leaves events behind
 * fails, so the scheduler backs off; configured only with CONTROL_URL.
 */
const INTERVAL_MS = 5 * 60_000;

export const eventsJob: Job = {
  name: 'events',
  intervalMs: (context) => (context.config.CONTROL_URL === null ? null : INTERVAL_MS),
  async run({ host, config, logger }): Promise<JobResult> {
    const outbox = await EventOutbox.create(host, config, logger);
    if (outbox === null) return { summary: 'CONTROL_URL is empty: events go to EVENTS_SINK_FILE' };
    const result = await outbox.flush(DAEMON_RETRIES);
    if (result.problem !== null)
      throw new AgentError(`${result.pending} host event(s) wait for the control endpoint: ${result.problem}`);
    if (result.delivered + result.duplicates === 0) return { summary: 'no host events waiting', details: result };
    const duplicates = result.duplicates > 0 ? `, ${result.duplicates} the endpoint already had` : '';
    return { summary: `delivered ${result.delivered} host event(s)${duplicates}`, details: result };
  },
};
