#!/bin/sh
# Packer `shell` provisioner, run inside the image root last: nothing of the
# build or of a booted host stays in the image, so every instance registers
# afresh with its own identity. /var/lib/ecs-host-agent stays on purpose: it
# records that the agent installed ecs-init (so the image is not mistaken for
# an ECS-optimized AMI) and which ecs.config keys it owns.
set -eu

rm -rf /var/lib/ecs/data /var/cache/ecs-host-agent /run/ecs-host-agent
rm -f /var/lib/ecs-host-agent/status.json
truncate -s 0 /etc/machine-id
rm -f /var/lib/dbus/machine-id /etc/ssh/ssh_host_*
if command -v cloud-init >/dev/null 2>&1; then cloud-init clean --logs; fi
if command -v apt-get >/dev/null 2>&1; then apt-get clean; fi
if command -v dnf >/dev/null 2>&1; then dnf clean all; fi
if command -v zypper >/dev/null 2>&1; then zypper clean --all; fi
