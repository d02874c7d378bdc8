# $1: 0 when the package is erased, 1 when it is upgraded.
if [ "$1" -eq 0 ]; then
  if on_live_system; then stop_units; fi
  if command -v systemctl >/dev/null 2>&1; then
    for unit in $UNITS; do systemctl --no-reload disable "$unit" >/dev/null 2>&1 || true; done
  fi
fi
exit 0
