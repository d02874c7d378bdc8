#!/bin/sh
# Packer `shell` provisioner, run inside the image root (amazon-chroot): writes
# agent.env and installs the ecs-host-agent package without starting anything.
# The package's scripts already start nothing in a chroot; the policy-rc.d
# (honoured by them and by Debian's other packages) and SYSTEMD_OFFLINE make
# sure of it for every package this pulls in.
# Environment: PACKAGE (the .deb or .rpm inside the image), ECS_CLUSTER.
set -eu

: "${PACKAGE:?PACKAGE must name the .deb or .rpm copied into the image}"
: "${ECS_CLUSTER:?ECS_CLUSTER must name the cluster the instances join}"
POLICY=/usr/sbin/policy-rc.d
export SYSTEMD_OFFLINE=1

mkdir -p /etc/ecs-host-agent
(umask 077 && printf 'ECS_CLUSTER=%s\n' "$ECS_CLUSTER" >/etc/ecs-host-agent/agent.env)

own_policy=no
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod 0755 "$POLICY"
  own_policy=yes
fi
case "$PACKAGE" in
  *.deb)
    export DEBIAN_FRONTEND=noninteractive
    apt-get -q update
    # --force-confold: keep the agent.env written above.
    apt-get -q -o Dpkg::Options::=--force-confold install -y "$PACKAGE"
    ;;
  *.rpm)
    if command -v dnf >/dev/null 2>&1; then
      dnf -y install "$PACKAGE"
    else
      zypper -n install --allow-unsigned-rpm "$PACKAGE"
    fi
    ;;
  *)
    echo "install-package.sh: PACKAGE must end in .deb or .rpm, not $PACKAGE" >&2
    exit 1
    ;;
esac
if [ "$own_policy" = yes ]; then rm -f "$POLICY"; fi
rm -f "$PACKAGE"
