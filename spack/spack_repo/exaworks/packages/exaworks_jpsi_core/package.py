# Copyright ExaWorks SDK contributors.
# SPDX-License-Identifier: MIT

from spack_repo.builtin.build_systems.generic import Package

from spack.package import *


class ExaworksJpsiCore(Package):
    """PSI/J job model, state machine, executor and launcher contracts, registry, errors and psij-python JSON of the ExaWorks SDK for TypeScript."""

    homepage = "https://github.com/exaworks/sdk-typescript"
    url = "https://registry.npmjs.org/@exaworks/jpsi-core/-/jpsi-core-0.1.0.tgz"

    maintainers("exaworks")

    license("MIT")

    # sha256 of the published npm tarball (the registry itself lists only sha512 integrity):
    # `sha256sum` of the `npm pack` output at release time. expand=False keeps the .tgz for npm.
    version("0.1.0", sha256="5ab4db9327537787b05ba979fd43f0cb413d6f5738c2a3172ae79234b89e1ba8", expand=False)

    # The SDK needs Node 20.19 or later; npm is only used to unpack and install the tarball.
    depends_on("node-js@20.19:", type=("build", "run"))
    depends_on("npm", type="build")

    sanity_check_is_dir = [join_path("lib", "node_modules", "@exaworks/jpsi-core", "dist")]

    def install(self, spec, prefix):
        npm = which("npm", required=True)
        npm("install", "--global", f"--prefix={prefix}", "--omit=dev", self.stage.archive_file)
