#!/usr/bin/env bash
# Packs every public @exaworks package (as `npm publish` would) and writes each tarball's version and
# sha256 into its Spack recipe. Run after `npm run build`, at release time, from the repository root.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cd "$root"
for manifest in packages/*/package.json; do
  node -e 'const m = require(process.argv[1]); process.exit(m.private ? 1 : 0)' "$root/$manifest" || continue
  name="$(node -p 'require(process.argv[1]).name' "$root/$manifest")"
  version="$(node -p 'require(process.argv[1]).version' "$root/$manifest")"
  file="$(npm pack --silent --ignore-scripts --pack-destination "$out" -w "$name" | tail -n 1)"
  sha="$(sha256sum "$out/$file" | cut -d' ' -f1)"
  recipe="spack/spack_repo/exaworks/packages/exaworks_$(basename "$(dirname "$manifest")" | tr - _)/package.py"
  if [ ! -f "$recipe" ]; then
    echo "update-checksums: no recipe $recipe for $name" >&2
    exit 1
  fi
  short="${name#@exaworks/}"
  sed -i -E \
    -e "s|^(    url = \"https://registry.npmjs.org/@exaworks/${short}/-/${short}-)[^\"]*(\\.tgz\")|\\1${version}\\2|" \
    -e "0,/^    version\\(/s|^    version\\(\"[^\"]*\", sha256=\"[0-9a-f]{64}\"|    version(\"${version}\", sha256=\"${sha}\"|" \
    "$recipe"
  echo "$name $version sha256:$sha -> $recipe"
done
