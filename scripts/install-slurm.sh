#!/bin/sh
# Installs Debian's Slurm (slurm-wlm: slurmctld, slurmd, client commands) and munge for the
# real-Slurm test suite (`npm run test:slurm`). Idempotent: nothing is fetched when both are
# installed. Starts no daemon: the suite brings up its own private instance (scripts/slurm-private.sh).
# Run as root (or through sudo).
set -eu

PACKAGES="slurm-wlm munge"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-slurm: already installed:$(printf ' %s' $PACKAGES)"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-slurm: must run as root to install:$missing (try: sudo $0)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  if ! apt-get install -y -q --no-install-recommends $missing; then
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
  fi
fi

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
