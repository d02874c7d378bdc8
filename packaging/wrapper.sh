#!/bin/sh
# /usr/bin/ecs-host-agent: runs the agent on the Node.js runtime its package
# ships. That runtime needs glibc 2.28 or later; on an older system say so in
# words (exit 3, "refused") instead of leaving it to the dynamic loader.
AGENT_LIB=/usr/lib/ecs-host-agent
GLIBC_NEEDED_MAJOR=2
GLIBC_NEEDED_MINOR=28

glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null)
glibc=${glibc#glibc }
major=${glibc%%.*}
minor=${glibc#*.}
minor=${minor%%.*}
case "$major.$minor" in
  *[!0-9.]* | .* | *.) supported=no ;;
  *) if [ "$major" -gt "$GLIBC_NEEDED_MAJOR" ] || { [ "$major" -eq "$GLIBC_NEEDED_MAJOR" ] && [ "$minor" -ge "$GLIBC_NEEDED_MINOR" ]; }; then
       supported=yes
     else
       supported=no
     fi ;;
esac
if [ "$supported" != yes ]; then
  echo "ecs-host-agent: this system has ${glibc:+glibc }${glibc:-no GNU C library}; the agent's Node.js runtime needs glibc $GLIBC_NEEDED_MAJOR.$GLIBC_NEEDED_MINOR or later (Amazon Linux 2 and SLES 12 are too old: use Amazon Linux 2023, SLES 15 SP3+, Debian 11+ or Ubuntu 20.04+)" >&2
  exit 3
fi
# V8 flags for a small resident agent (npm run bench, docs/benchmarks.md): the
# young generation capped at 1 MB per semi-space (default up to 16); no
# optimising compiler above Sparkplug's baseline code (the agent waits on the
# kernel and the network far more than it computes); V8's heuristics that
# favour memory over speed. Given on the command line, since NODE_OPTIONS takes
# only the first; the commands the agent runs get none of them.
exec "$AGENT_LIB/node" --max-semi-space-size=1 --max-opt=1 --optimize-for-size "$AGENT_LIB/ecs-host-agent.mjs" "$@"
