# Shared by the deb and rpm maintainer scripts (packaging/build/scripts.ts puts it in
# front of each). Units are enabled in every case, so an image boots with them;
# they are started only on a running system, never blocking (a blocking start
# from EC2 user-data deadlocks on cloud-final), and never in an image build, a
# chroot or a container build.
MAIN_UNIT=@MAIN_UNIT@
# Units with an [Install] section.
UNITS='@UNITS@'

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

start_main_unit() {
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl --no-block start "$MAIN_UNIT" || true
}

# After an upgrade: a running agent picks up the new version; a stopped one stays stopped.
restart_main_unit() {
  systemctl daemon-reload >/dev/null 2>&1 || true
  systemctl --no-block try-restart "$MAIN_UNIT" || true
}

stop_main_unit() {
  systemctl stop "$MAIN_UNIT" || true
}

reload_units() {
  systemctl daemon-reload >/dev/null 2>&1 || true
}
