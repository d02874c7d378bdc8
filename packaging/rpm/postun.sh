# $1: 0 when the package is erased.
if [ "$1" -eq 0 ] && on_live_system; then reload_units; fi
exit 0
