# $1: 1 on a new install, 2 or more on an upgrade (the administrator's enable/disable choice is kept).
if [ "$1" -eq 1 ] && command -v systemctl >/dev/null 2>&1; then
  for unit in $UNITS; do systemctl enable "$unit" >/dev/null 2>&1 || true; done
fi
if on_live_system; then
  if [ "$1" -eq 1 ]; then start_units new; else start_units upgrade; fi
fi
exit 0
