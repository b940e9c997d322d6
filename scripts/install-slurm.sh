#!/bin/sh
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd, client commands) and munge for the
# real-Slurm test suite (`npm run test:slurm`). Idempotent: nothing is fetched when both are
# installed. Starts no daemon: the suite brings up its own private instance (scripts/slurm-private.sh).
# Run as root (or through sudo).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
sh "$here/apt-ensure.sh" install-slurm slurm-wlm munge

# The munge package creates a key at install; make one if an image shipped without it.
if [ ! -s /etc/munge/munge.key ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-slurm: /etc/munge/munge.key is missing and only root can create it" >&2
    exit 1
  fi
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
  chown munge:munge /etc/munge/munge.key
  chmod 400 /etc/munge/munge.key
fi
echo "install-slurm: slurm-wlm $(dpkg-query -W -f="\${Version}" slurm-wlm)"
