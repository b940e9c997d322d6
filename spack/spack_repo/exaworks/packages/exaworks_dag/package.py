# Copyright ExaWorks SDK contributors.
# SPDX-License-Identifier: MIT

from spack_repo.builtin.build_systems.generic import Package

from spack.package import *


class ExaworksDag(Package):
    """The durable workflow (dependency-graph) engine of the ExaWorks SDK for TypeScript."""

    homepage = "https://github.com/exaworks/sdk-typescript"
    url = "https://registry.npmjs.org/@exaworks/dag/-/dag-0.1.0.tgz"

    maintainers("exaworks")

    license("MIT")

    # sha256 of the published npm tarball (the registry itself lists only sha512 integrity):
    # `sha256sum` of the `npm pack` output at release time. expand=False keeps the .tgz for npm.
    version("0.1.0", sha256="8a3e192961ad948ed8b0ace172f979b40d2cf4fa0026cb268a8c5030831c34a1", expand=False)

    # The SDK needs Node 20.19 or later; npm is only used to unpack and install the tarball.
    depends_on("node-js@20.19:", type=("build", "run"))
    depends_on("npm", type="build")
    depends_on("exaworks-jpsi-core@0.1", type=("build", "run"))

    sanity_check_is_dir = [join_path("lib", "node_modules", "@exaworks/dag", "dist")]

    def install(self, spec, prefix):
        npm = which("npm", required=True)
        # The sibling @exaworks packages are copied from their own Spack installs (not fetched from
        # the registry), so this install uses exactly the versions Spack concretized.
        siblings = [
            join_path(spec["exaworks-jpsi-core"].prefix, "lib", "node_modules", "@exaworks", "jpsi-core"),
        ]
        npm("install", "--global", f"--prefix={prefix}", "--omit=dev", "--install-links", *siblings, self.stage.archive_file)
