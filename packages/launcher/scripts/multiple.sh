#!/bin/sh
# The `multiple` launcher of @exaworks/launcher: runs COUNT copies of a command in parallel.
# Usage: multiple.sh [--stdin FILE] COUNT EXECUTABLE [ARGUMENT...]
# Each copy gets EXAWORKS_RANK (0-based), EXAWORKS_SIZE, and psij-python's _PSI_J_PROCESS_INDEX_
# (1-based) and _PSI_J_PROCESS_COUNT. Copies share this script's stdout and stderr; with --stdin
# each copy opens FILE itself and reads all of it (as psij-python's copies do), else they share
# this script's stdin.
# Exit status: that of the lowest-ranked copy that exited non-zero, else 0.

stdin=
if [ "${1:-}" = --stdin ]; then
  stdin=$2
  shift 2
fi
count=$1
case $count in
  '' | *[!0-9]* | 0) echo "multiple.sh: the process count must be a positive integer, got '$count'" >&2; exit 2 ;;
esac
shift
if [ $# -eq 0 ]; then echo 'multiple.sh: no command given' >&2; exit 2; fi

EXAWORKS_SIZE=$count
_PSI_J_PROCESS_COUNT=$count
export EXAWORKS_SIZE _PSI_J_PROCESS_COUNT

# Asynchronous commands get /dev/null as stdin unless redirected explicitly, so keep ours on fd 3.
exec 3<&0
pids=
# A TERM/INT/HUP sent to this script alone (not its process group) still stops every copy.
trap 'kill -TERM $pids 2>/dev/null; exit 143' TERM
trap 'kill -TERM $pids 2>/dev/null; exit 130' INT
trap 'kill -TERM $pids 2>/dev/null; exit 129' HUP

rank=0
while [ "$rank" -lt "$count" ]; do
  if [ -n "$stdin" ]; then
    EXAWORKS_RANK=$rank _PSI_J_PROCESS_INDEX_=$((rank + 1)) "$@" <"$stdin" 3<&- &
  else
    EXAWORKS_RANK=$rank _PSI_J_PROCESS_INDEX_=$((rank + 1)) "$@" <&3 3<&- &
  fi
  pids="$pids $!"
  rank=$((rank + 1))
done
exec 3<&-

rc=0
for pid in $pids; do
  wait "$pid"
  status=$?
  if [ "$rc" -eq 0 ] && [ "$status" -ne 0 ]; then rc=$status; fi
done
exit "$rc"
