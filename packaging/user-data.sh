#!/bin/bash
# EC2 user-data: install ecs-host-agent and start it for one cluster.
# Set the four values below. The instance profile needs what the README's
# "Bootstrapping from user-data" section lists (ECS instance role, plus
# s3:GetObject on the package folder when PACKAGE_FOLDER is an s3:// URL).
set -euo pipefail

ECS_CLUSTER=my-cluster
# The folder `npm run package` output was uploaded to (the .deb/.rpm files and SHA256SUMS):
# s3://bucket/prefix (uses the AWS CLI and the instance profile) or https://... (curl).
PACKAGE_FOLDER=s3://my-bucket/ecs-host-agent/0.1.0-1
PACKAGE_VERSION=0.1.0-1
# Control endpoint for status and metrics; leave empty for none.
CONTROL_URL=

# 1. Configuration first: the package starts the agent as soon as it is installed.
mkdir -p /etc/ecs-host-agent
umask 077
{
  echo "ECS_CLUSTER=${ECS_CLUSTER}"
  if [ -n "${CONTROL_URL}" ]; then echo "CONTROL_URL=${CONTROL_URL}"; fi
} > /etc/ecs-host-agent/agent.env
umask 022

# 2. The package for this distribution and architecture, checked against SHA256SUMS.
case "$(uname -m)" in
  x86_64) deb_arch=amd64 rpm_arch=x86_64 ;;
  aarch64) deb_arch=arm64 rpm_arch=aarch64 ;;
  *) echo "ecs-host-agent: no package for $(uname -m)" >&2; exit 1 ;;
esac
if command -v apt-get >/dev/null; then file="ecs-host-agent_${PACKAGE_VERSION}_${deb_arch}.deb"; else file="ecs-host-agent-${PACKAGE_VERSION}.${rpm_arch}.rpm"; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in SHA256SUMS "$file"; do
  case "$PACKAGE_FOLDER" in
    s3://*) aws s3 cp --only-show-errors "${PACKAGE_FOLDER%/}/${name}" "$work/${name}" ;;
    *) curl --fail --silent --show-error --location --retry 5 -o "$work/${name}" "${PACKAGE_FOLDER%/}/${name}" ;;
  esac
done
(cd "$work" && grep -x "[0-9a-f]\{64\}  ${file}" SHA256SUMS | sha256sum -c -)

# 3. Install: the maintainer scripts enable the unit and start it with --no-block
#    (a blocking start from user-data would wait for cloud-final, which waits for this script).
if command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get -q -o DPkg::Lock::Timeout=300 update
  # --force-confold: keep the agent.env written above.
  apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y "$work/$file"
elif command -v dnf >/dev/null; then
  dnf -y install "$work/$file"
else
  ZYPP_LOCK_TIMEOUT=300 zypper -n install --allow-unsigned-rpm "$work/$file"
fi
ecs-host-agent --version
