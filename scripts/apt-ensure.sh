#!/bin/sh
# The one place that installs missing Debian packages for the test suites.
# Usage: apt-ensure.sh LABEL PACKAGE...   (LABEL prefixes its messages, e.g. install-mpi)
# Idempotent: installed packages are not fetched again, and the apt index is refreshed only when
# a package is missing (first if the index was never fetched, again if an install fails).
set -eu

label=$1
shift

missing=""
for p in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "$label: already installed:$(printf ' %s' "$@")"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "$label: must run as root to install:$missing (try: sudo sh $0 $label$missing)" >&2
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
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing
fi
