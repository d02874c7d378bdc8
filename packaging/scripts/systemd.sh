# Shared by the deb and rpm maintainer scripts (packaging/build/scripts.ts puts it in
# front of each). Units are enabled in every case, so an image boots with them;
# they are started only on a running system, never blocking (a blocking start
# from EC2 user-data deadlocks on cloud-final), and never in an image build, a
# chroot or a container build.
MAIN_UNIT=@MAIN_UNIT@
# Units with an [Install] section: enabled on install.
UNITS='@UNITS@'
# Every unit the package ships: stopped and forgotten on removal.
SHIPPED_UNITS='@SHIPPED_UNITS@'
# What the running agent leaves outside the package's files: its lock and pid
# file (gone at reboot anyway) and downloads waiting for verification.
RUNTIME_DIR=/run/ecs-host-agent
CACHE_DIR=/var/cache/ecs-host-agent

# A running system whose units this script may start and stop.
on_live_system() {
  # systemd is not running here: an image build, a container, a chroot.
  [ -d /run/systemd/system ] || return 1
  # A chroot that sees the host's /run.
  if command -v systemd-detect-virt >/dev/null 2>&1 && systemd-detect-virt --quiet --chroot; then return 1; fi
  if command -v ischroot >/dev/null 2>&1 && ischroot --default-true; then return 1; fi
  # Image builders forbid starting services with a policy-rc.d that exits 101.
  if [ -x /usr/sbin/policy-rc.d ]; then
    policy=0
    /usr/sbin/policy-rc.d "$MAIN_UNIT" start >/dev/null 2>&1 || policy=$?
    [ "$policy" -ne 101 ] || return 1
  fi
  return 0
}

# After a new install ($1 = new) or an upgrade ($1 = upgrade). A new install starts
# the agent; an upgrade restarts a running agent and leaves a stopped one stopped.
# The other enabled units (the decommission hook) must be active to act at
# poweroff, so they are started either way (nothing happens if they already are).
start_units() {
  systemctl daemon-reload >/dev/null 2>&1 || true
  if [ "$1" = new ]; then
    systemctl --no-block start "$MAIN_UNIT" || true
  else
    systemctl --no-block try-restart "$MAIN_UNIT" || true
  fi
  for unit in $UNITS; do
    [ "$unit" != "$MAIN_UNIT" ] || continue
    if systemctl --quiet is-enabled "$unit" 2>/dev/null; then systemctl --no-block start "$unit" || true; fi
  done
}

# Before the files go: a unit stopped later could not run its ExecStop.
stop_units() {
  # shellcheck disable=SC2086 # a word list of unit names
  systemctl stop $SHIPPED_UNITS || true
}

# After the files are gone: systemd forgets the units, including a failed state.
forget_units() {
  systemctl daemon-reload >/dev/null 2>&1 || true
  # shellcheck disable=SC2086 # a word list of unit names
  systemctl reset-failed $SHIPPED_UNITS >/dev/null 2>&1 || true
}

remove_runtime_files() {
  rm -rf "$RUNTIME_DIR" "$CACHE_DIR"
}
