#!/bin/sh
# Runs a launcher program (mpirun, …) and tells its own failures apart from the program's.
# Usage: report-launch.sh N LAUNCHER_WORD_1 … LAUNCHER_WORD_N EXECUTABLE [ARGUMENT...]
# Every process the launcher starts first removes a marker file, then execs the executable. If
# the launcher exits non-zero and the marker is still there, the program never started: the
# launcher itself failed, and the tail of its stderr is written to $EXAWORKS_LAUNCH_FAILURE_FILE
# (set by the job script; the job's result then quotes it). Stdout and stderr pass through live.

n=$1
case $n in
  '' | *[!0-9]* | 0) echo "report-launch.sh: the launcher word count must be a positive integer, got '$n'" >&2; exit 2 ;;
esac
shift
if [ $# -le "$n" ]; then echo 'report-launch.sh: no executable given' >&2; exit 2; fi

report=${EXAWORKS_LAUNCH_FAILURE_FILE:-}
if [ -n "$report" ]; then
  # Beside the job's result file (usually a shared file system, so remote ranks can remove it).
  marker="$report.norank"
  errlog="$report.stderr"
  : >"$marker" && : >"$errlog" || report=
fi
if [ -z "$report" ]; then exec "$@"; fi

# Insert `SHELL -c 'rm marker; exec "$@"' MARKER` between the launcher words and the executable,
# rotating the positional parameters (POSIX sh has no arrays). SHELL is the one running this script
# (bash when the job carries exported bash functions, which dash would drop on the way to the ranks).
wrap=/bin/sh
if [ -n "${BASH:-}" ]; then wrap=$BASH; fi
total=$#
i=0
while [ "$i" -lt "$total" ]; do
  # A program that cannot be executed keeps the marker: that is a failure to launch, as mpirun
  # itself reports one when it is handed a missing executable.
  if [ "$i" -eq "$n" ]; then set -- "$@" "$wrap" -c 'command -v -- "$1" >/dev/null 2>&1 && rm -f -- "$0" 2>/dev/null; exec "$@"' "$marker"; fi
  set -- "$@" "$1"
  shift
  i=$((i + 1))
done

# The launcher's stderr goes through tee (to the job's stderr and a private copy); its stdout
# stays the job's stdout. The exit status comes back on fd 4.
exec 3>&1
rc=$({ { "$@" 2>&1 1>&3 3>&- 4>&-; echo $? >&4; } | tee "$errlog" >&2 3>&- 4>&-; } 4>&1)
exec 3>&-
case $rc in '' | *[!0-9]*) rc=1 ;; esac

if [ "$rc" -ne 0 ] && [ -e "$marker" ]; then
  # Drop Open MPI's banner lines of dashes; keep the last lines of what the launcher said.
  msg=$(grep -v -e '^-*$' -e '^[[:space:]]*$' "$errlog" | tail -n 12 | tr '\n' ' ' | cut -c 1-1500)
  printf '%s exited with status %s before starting any process: %s\n' "$1" "$rc" "${msg:-(no message on stderr)}" >"$report"
fi
rm -f -- "$marker" "$errlog"
exit "$rc"
