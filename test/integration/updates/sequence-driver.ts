/**
 * Runs the reboot sequence, or its resume, once in its own process, so a test
 * can end it with SIGKILL at any step (SEQUENCE_CRASH_AT) and start it again,
 * as a host crash and the next start of the daemon would. Prints the outcome.
 */
import {
  resumeRebootSequence,
  runRebootSequence,
  type SequenceStep,
} from '../../../src/concerns/updates/reboot/sequence.ts';
import { type SequenceSetup, sequenceDeps } from './moto-sequence.ts';

const setup = JSON.parse(process.env.SEQUENCE_SETUP ?? '') as SequenceSetup;
const crashAt = process.env.SEQUENCE_CRASH_AT as SequenceStep | undefined;
const deps = sequenceDeps(setup, async (step) => {
  if (step === crashAt) process.kill(process.pid, 'SIGKILL');
});
const outcome =
  process.argv[2] === 'resume'
    ? await resumeRebootSequence(deps)
    : await runRebootSequence(deps, 'test: security updates need a reboot');
process.stdout.write(`${JSON.stringify(outcome)}\n`);
