import { messageOf } from '../../core/errors.ts';
import { type Check, fail, ok } from '../check.ts';

/** The ECS agent talks to Docker over its socket; the service being "active" does not prove the API answers. */
export const dockerApi: Check = {
  id: 'docker-api',
  title: 'Docker API answering on its socket',
  async run(context) {
    try {
      const info = await context.dockerInfo();
      return ok(`Docker ${info.serverVersion} answers on ${context.dockerSocket}`);
    } catch (error) {
      return fail(
        messageOf(error),
        `start Docker ("systemctl start docker") and see "journalctl -u docker" if it does not come up`,
      );
    }
  },
};
