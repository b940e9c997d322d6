#!/bin/bash
# A private one-node Slurm for tests, entirely inside DIR: its own slurm.conf (SLURM_CONF), munge
# socket, ports, state, spool, pid and log files. It never touches /etc/slurm or the default
# ports, so it can run beside a real Slurm or another test run.
#
#   slurm-private.sh start DIR [CTLD_PORT SLURMD_PORT]   # prints SLURM_CONF=DIR/slurm.conf once the node is idle
#   slurm-private.sh stop DIR
#
# Needs root (slurmd runs jobs as their users) and scripts/install-slurm.sh.
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR [CTLD_PORT SLURMD_PORT]" >&2
  exit 2
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
export SLURM_CONF="$dir/slurm.conf"

stop() {
  if [ -f "$SLURM_CONF" ]; then scontrol shutdown >/dev/null 2>&1 || true; fi
  for pidfile in "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munge/munged.pid"; do
    if [ -s "$pidfile" ]; then
      pid="$(cat "$pidfile")"
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$pidfile"
    fi
  done
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
if [ "$cmd" != start ]; then
  echo "$0: unknown command $cmd" >&2
  exit 2
fi

ctld_port="${3:-6917}"
slurmd_port="${4:-6918}"
host="$(hostname)"
for tool in munged slurmctld slurmd scontrol sinfo; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool not found: run scripts/install-slurm.sh" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "$0: must run as root (slurmd starts jobs as their users)" >&2; exit 1; }

mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log"
# munged refuses a socket directory others cannot traverse ("Socket is inaccessible").
chmod 755 "$dir" "$dir/munge"
cp /etc/munge/munge.key "$dir/munge/munge.key"
chown munge:munge "$dir/munge" "$dir/munge/munge.key"
chmod 400 "$dir/munge/munge.key"
sock="$dir/munge/munge.sock"

runuser -u munge -- munged --socket="$sock" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed"
munge -S "$sock" -n | unmunge -S "$sock" >/dev/null

cat >"$SLURM_CONF" <<CONF
ClusterName=exaworks-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MpiDefault=none
SchedulerParameters=sched_interval=1
MinJobAge=300
KillWait=5
SlurmdParameters=config_overrides
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
NodeName=$host CPUs=8 RealMemory=4000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF

slurmctld
slurmd
for _ in $(seq 1 300); do
  state="$(sinfo -h -n "$host" -o '%T' 2>/dev/null || true)"
  case "$state" in
    idle*) echo "SLURM_CONF=$SLURM_CONF"; exit 0 ;;
    drain* | down*) scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true ;;
  esac
  sleep 0.1
done
echo "$0: the node did not become idle within 30 s (state: ${state:-none}); logs in $dir/log" >&2
stop
exit 1
