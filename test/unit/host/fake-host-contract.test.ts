import { FakeHost } from '../../support/fake-host.ts';
import { hostContract } from './contract.ts';

hostContract('FakeHost', async () => {
  const host = new FakeHost();
  const base = '/scratch/contract';
  await host.mkdir(base);
  return { host, base, symlink: async (target, path) => void host.symlinks.set(path, target) };
});
