#!/bin/sh
# STAND-IN (test only) for a batch system's parallel launcher (jsrun, aprun), which cannot be
# installed here. Usage: launcher-stand-in.sh NAME [FLAGS...] EXECUTABLE [ARGS...]
# It appends its argv (one word per line, then a blank line) to $STAND_IN_ARGV_FILE, reads the
# process count from -n, skips the other value-taking flags of the real tool, then runs that many
# copies of the executable in parallel with the tool's rank variables set, and exits with the
# first non-zero exit code (like the real tools).
name=$1; shift
if [ -n "${STAND_IN_ARGV_FILE-}" ]; then
  { printf '%s\n' "$name" "$@"; printf '\n'; } >>"$STAND_IN_ARGV_FILE"
fi
n=1
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -a | -c | -g | -r | -N | -d | -j | -p) shift 2 ;;
    --) shift; break ;;
    -*) echo "$name stand-in: unknown flag $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "$name stand-in: no executable" >&2; exit 2; }
pids=
rank=0
while [ "$rank" -lt "$n" ]; do
  case $name in
    jsrun) JSM_NAMESPACE_RANK=$rank JSM_NAMESPACE_SIZE=$n "$@" & ;;
    aprun) ALPS_APP_PE=$rank "$@" & ;;
    *) "$@" & ;;
  esac
  pids="$pids $!"
  rank=$((rank + 1))
done
rc=0
for pid in $pids; do
  wait "$pid"; st=$?
  [ "$rc" -ne 0 ] || rc=$st
done
exit "$rc"
