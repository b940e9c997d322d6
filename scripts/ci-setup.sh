#!/usr/bin/env bash
# System setup for the real-parts test suites (real mpirun, real processes) on Debian 12.
# Idempotent: installs only what is missing. Run as root (or `sudo bash scripts/ci-setup.sh`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Node and npm are the one thing this script does not install: say so clearly instead of failing later.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "ci-setup: node and npm are required (Node >= 20.19, npm >= 11); install them first." >&2
  exit 1
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "ci-setup: Node $(node -v) is too old: the SDK needs Node >= 20.19." >&2
  exit 1
fi
echo "ci-setup: node $(node -v), npm $(npm -v)"

# procps (ps) is missing from slim Debian images; the process-group tests use it to look at real processes.
# openssl makes the certificate of the messaging TLS tests. python3 runs the local executor's exec agent
# (optional for users, who fall back to job scripts without it; its tests must run here).
if [ ! -f "$here/apt-ensure.sh" ]; then
  echo "ci-setup: $here/apt-ensure.sh is missing" >&2
  exit 1
fi
sh "$here/apt-ensure.sh" ci-setup procps openssl python3

# Open MPI (the default mpirun) and MPICH for the real-MPI launcher suites.
if [ ! -f "$here/install-mpi.sh" ]; then
  echo "ci-setup: $here/install-mpi.sh is missing" >&2
  exit 1
fi
sh "$here/install-mpi.sh"

# Slurm and munge for the real-Slurm suite (npm run test:slurm brings up its own private instance).
sh "$here/install-slurm.sh"
echo "ci-setup: done"
