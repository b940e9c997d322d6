#!/bin/sh
# Installs the MPI implementations the launcher tests run for real: Debian's Open MPI (mpirun,
# mpicc) and MPICH. Idempotent: packages already installed are not fetched again, and the apt
# index is refreshed only when a package is missing. Run as root (or through sudo).
set -eu

PACKAGES="openmpi-bin libopenmpi-dev mpich libmpich-dev"

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-mpi: already installed:$(printf ' %s' $PACKAGES)"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-mpi: must run as root to install:$missing (try: sudo $0)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # An empty package list means apt-get update has never run on this machine (e.g. a slim image).
  if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' -e '^auxfiles$')" ]; then
    apt-get update -q
  fi
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  if ! apt-get install -y -q --no-install-recommends $missing; then
    apt-get update -q
    apt-get install -y -q --no-install-recommends $missing
  fi
fi

# Open MPI and MPICH coexist on Debian: each ships its own binaries (mpirun.openmpi,
# mpirun.mpich) and `mpirun`/`mpicc` are alternatives links. Open MPI stays the default
# `mpirun` (the one the tests expect); MPICH is always reachable as mpirun.mpich / mpicc.mpich.
if [ "$(id -u)" -eq 0 ] && command -v update-alternatives >/dev/null 2>&1; then
  if [ -e /usr/bin/mpirun.openmpi ]; then update-alternatives --quiet --set mpirun /usr/bin/mpirun.openmpi; fi
  if [ -e /usr/bin/mpicc.openmpi ]; then update-alternatives --quiet --set mpi /usr/bin/mpicc.openmpi; fi
  triplet="$(uname -m)-linux-gnu"
  if [ -d "/usr/lib/$triplet/openmpi/include" ]; then
    update-alternatives --quiet --set "mpi-$triplet" "/usr/lib/$triplet/openmpi/include"
  fi
fi

for tool in mpirun mpicc mpirun.openmpi mpirun.mpich mpicc.mpich; do
  if command -v "$tool" >/dev/null 2>&1; then echo "install-mpi: $tool -> $(readlink -f "$(command -v "$tool")")"; else echo "install-mpi: $tool not found" >&2; fi
done
