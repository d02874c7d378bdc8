import assert from 'node:assert/strict';
import { test } from 'node:test';

import { hostFactsReader } from '../../../src/metrics/host-facts.ts';
import { FakeHost } from '../../support/fake-host.ts';

const OS_RELEASE = 'NAME="Amazon Linux"\nVERSION_ID="2023"\nID="amzn"\nPRETTY_NAME="Amazon Linux 2023.6.20241212"\n';

function x86Host(): FakeHost {
  return new FakeHost({
    '/etc/os-release': OS_RELEASE,
    '/proc/sys/kernel/osrelease': '6.1.119-129.201.amzn2023.x86_64\n',
    '/proc/cpuinfo': [
      'processor\t: 0',
      'vendor_id\t: GenuineIntel',
      'model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz',
      '',
      'processor\t: 1',
      'model name\t: Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz',
      '',
    ].join('\n'),
    '/sys/class/dmi/id/sys_vendor': 'Amazon EC2\n',
    '/sys/class/dmi/id/product_name': 'g4dn.xlarge\n',
    '/sys/bus/pci/devices/0000:00:1e.0/class': '0x030200\n',
    '/sys/bus/pci/devices/0000:00:1e.0/vendor': '0x10de\n',
    '/sys/bus/pci/devices/0000:00:1e.0/device': '0x1eb8\n',
    '/sys/bus/pci/devices/0000:00:04.0/class': '0x010802\n',
    '/sys/bus/pci/devices/0000:00:04.0/vendor': '0x1d0f\n',
    '/sys/bus/pci/devices/0000:00:04.0/device': '0x8061\n',
  });
}

const LSPCI = [
  '0000:00:04.0 "Non-Volatile memory controller" "Amazon.com, Inc." "NVMe EBS Controller" -p02 ' +
    '"Amazon.com, Inc." "Device 0000"',
  '0000:00:1e.0 "3D controller" "NVIDIA Corporation" "TU104GL [Tesla T4]" -ra1 "NVIDIA Corporation" "Device 12a2"',
  '',
].join('\n');

test('host facts from os-release, /proc and DMI; display devices named by lspci, the only process', async () => {
  const host = x86Host().answer('lspci', { stdout: LSPCI }, ['-mm', '-D']);
  assert.deepEqual(await hostFactsReader(host)(), {
    os: 'Amazon Linux 2023.6.20241212',
    kernel: '6.1.119-129.201.amzn2023.x86_64',
    arch: process.arch,
    cpuModel: 'Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz',
    cpuCores: 2,
    manufacturer: 'Amazon EC2',
    product: 'g4dn.xlarge',
    gpus: ['NVIDIA Corporation TU104GL [Tesla T4]'],
  });
  assert.deepEqual(host.commands(), ['lspci -mm -D']);
});

test('host facts without lspci name a display device by its PCI ids; no display device, no process', async () => {
  const host = x86Host().onExec(() => {
    throw new Error('spawn lspci ENOENT');
  });
  assert.deepEqual((await hostFactsReader(host)()).gpus, ['PCI device 10de:1eb8']);

  const noDisplay = x86Host();
  noDisplay.putFile('/sys/bus/pci/devices/0000:00:1e.0/class', '0x020000\n');
  assert.deepEqual((await hostFactsReader(noDisplay)()).gpus, []);
  assert.deepEqual(noDisplay.commands(), []);
});

test(
  'arm64: the CPU is named by lscpu, since /proc/cpuinfo has part numbers only; no DMI or PCI is ' + 'no error',
  async () => {
    const host = new FakeHost({
      '/etc/os-release': OS_RELEASE,
      '/proc/sys/kernel/osrelease': '6.1.119-129.201.amzn2023.aarch64\n',
      '/proc/cpuinfo':
        'processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU part\t: ' +
        '0xd40\n\nprocessor\t: 1\nCPU part\t: 0xd40\n',
    }).answer('lscpu', {
      stdout: 'Architecture:        aarch64\nVendor ID:           ARM\nModel name:          Neoverse-V1\n',
    });
    const facts = await hostFactsReader(host)();
    assert.deepEqual(
      [facts.cpuModel, facts.cpuCores, facts.manufacturer, facts.product, facts.gpus],
      ['Neoverse-V1', 2, '', '', []],
    );
    assert.deepEqual(host.commands(), ['lscpu']);
  },
);
