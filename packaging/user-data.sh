#!/bin/bash
# EC2 user-data: install ecs-host-agent and start it for one cluster.
# Set the values below. Needs curl, sha256sum and the package manager, which
# stock Ubuntu, Debian, Amazon Linux 2023 and SLES images have; the AWS CLI
# only for an s3:// folder or CONTROL_TOKEN_PARAMETER (stock Ubuntu and Debian
# images do not ship it). The README's "Bootstrapping from EC2 user-data" has
# the IAM permissions and how to publish the folder.
set -euo pipefail

ECS_CLUSTER=my-cluster
# The folder `npm run package` output was uploaded to (the .deb/.rpm files and
# SHA256SUMS): https://... (curl), or s3://bucket/prefix (AWS CLI).
PACKAGE_FOLDER=https://my-bucket.s3.eu-west-1.amazonaws.com/ecs-host-agent/0.1.0-1
PACKAGE_VERSION=0.1.0-1
# Control endpoint for status and metrics; leave empty for none.
CONTROL_URL=
# The control endpoint's token is never written here: anything that can read
# this instance's metadata (containers too, with an IMDS hop limit of 2) can
# read user-data. Name an SSM SecureString parameter holding it instead
# (AWS CLI and ssm:GetParameter needed), or leave empty and provision
# /etc/ecs-host-agent/control-token another way (README).
CONTROL_TOKEN_PARAMETER=

CONFIG_DIR=/etc/ecs-host-agent
TOKEN_FILE=${CONFIG_DIR}/control-token

fail() {
  echo "ecs-host-agent user-data: $*" >&2
  exit 1
}

# 1. Everything this script needs, checked before anything changes.
need() {
  command -v "$1" >/dev/null 2>&1 || fail "$1 is not installed on this image; $2"
}
need sha256sum 'it checks the package against SHA256SUMS (coreutils)'
case "$PACKAGE_FOLDER" in
  https://*) need curl 'it downloads the package from PACKAGE_FOLDER (install curl, or bake it into the image)' ;;
  s3://*)
    need aws "PACKAGE_FOLDER is an s3:// URL, which needs the AWS CLI; stock Ubuntu and Debian images do not ship\
 it: use the folder's https:// URL (README: Bootstrapping from EC2 user-data)"
    ;;
  *) fail "PACKAGE_FOLDER must be an https:// or s3:// URL, not ${PACKAGE_FOLDER}" ;;
esac
if [ -n "$CONTROL_TOKEN_PARAMETER" ]; then
  need aws 'CONTROL_TOKEN_PARAMETER is read with the AWS CLI (aws ssm get-parameter --with-decryption);'\
' install it in the image, or provision the token file another way (README)'
fi
if command -v apt-get >/dev/null 2>&1; then
  manager=apt-get
elif command -v dnf >/dev/null 2>&1; then
  manager=dnf
elif command -v zypper >/dev/null 2>&1; then
  manager=zypper
else
  fail 'no apt-get, dnf or zypper: this is not a system the agent supports'
fi
case "$(uname -m)" in
  x86_64) deb_arch=amd64 rpm_arch=x86_64 ;;
  aarch64) deb_arch=arm64 rpm_arch=aarch64 ;;
  *) fail "no package for $(uname -m)" ;;
esac
if [ "$manager" = apt-get ]; then
  file="ecs-host-agent_${PACKAGE_VERSION}_${deb_arch}.deb"
else
  file="ecs-host-agent-${PACKAGE_VERSION}.${rpm_arch}.rpm"
fi

# 2. The package for this distribution and architecture, checked against SHA256SUMS.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for name in SHA256SUMS "$file"; do
  case "$PACKAGE_FOLDER" in
    s3://*) aws s3 cp --only-show-errors "${PACKAGE_FOLDER%/}/${name}" "$work/${name}" ;;
    *)
      curl --fail --silent --show-error --location --proto '=https' --retry 5 \
        -o "$work/${name}" "${PACKAGE_FOLDER%/}/${name}"
      ;;
  esac
done
grep -x "[0-9a-f]\{64\}  ${file}" "$work/SHA256SUMS" >"$work/expected" ||
  fail "SHA256SUMS in ${PACKAGE_FOLDER} does not list ${file}"
(cd "$work" && sha256sum --check --quiet expected) || fail "${file} does not match SHA256SUMS: not installed"

# 3. Configuration before the package: it starts the agent as soon as it is installed.
mkdir -p "$CONFIG_DIR"
umask 077
if [ -n "$CONTROL_TOKEN_PARAMETER" ]; then
  aws ssm get-parameter --with-decryption --name "$CONTROL_TOKEN_PARAMETER" \
    --query Parameter.Value --output text >"${TOKEN_FILE}.new"
  mv -f "${TOKEN_FILE}.new" "$TOKEN_FILE"
fi
{
  echo "ECS_CLUSTER=${ECS_CLUSTER}"
  if [ -n "$CONTROL_URL" ]; then echo "CONTROL_URL=${CONTROL_URL}"; fi
  if [ -n "$CONTROL_TOKEN_PARAMETER" ]; then echo "CONTROL_TOKEN_FILE=${TOKEN_FILE}"; fi
} >"${CONFIG_DIR}/agent.env"
umask 022

# 4. Install: the maintainer scripts enable the unit and start it with --no-block
#    (a blocking start from user-data would wait for cloud-final, which waits for this script).
case "$manager" in
  apt-get)
    export DEBIAN_FRONTEND=noninteractive
    apt-get -q -o DPkg::Lock::Timeout=300 update
    # --force-confold: keep the agent.env written above.
    apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold install -y "$work/$file"
    ;;
  dnf) dnf -y install "$work/$file" ;;
  zypper) ZYPP_LOCK_TIMEOUT=300 zypper -n install --allow-unsigned-rpm "$work/$file" ;;
esac
ecs-host-agent --version
