# $1: 0 when the package is erased. rpm has no purge: the agent's state
# (/var/lib/ecs-host-agent) and logs (/var/log/ecs-host-agent) stay, as the
# README's "Removing the package" says.
if [ "$1" -eq 0 ]; then
  if on_live_system; then forget_units; fi
  remove_runtime_files
fi
exit 0
