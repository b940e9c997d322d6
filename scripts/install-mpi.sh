#!/bin/sh
# Installs the MPI implementations the launcher tests run for real: Debian's Open MPI (mpirun,
# mpicc) and MPICH. Idempotent: packages already installed are not fetched again, and the apt
# index is refreshed only when a package is missing. Run as root (or through sudo).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
sh "$here/apt-ensure.sh" install-mpi openmpi-bin libopenmpi-dev mpich libmpich-dev

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
