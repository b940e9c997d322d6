# Copyright ExaWorks SDK contributors.
# SPDX-License-Identifier: MIT

from spack_repo.builtin.build_systems.generic import Package

from spack.package import *


class ExaworksExecutorsLsf(Package):
    """The IBM Spectrum LSF PSI/J executor of the ExaWorks SDK for TypeScript, on the shared batch-executor base."""

    homepage = "https://github.com/exaworks/sdk-typescript"
    url = "https://registry.npmjs.org/@exaworks/executors-lsf/-/executors-lsf-0.1.0.tgz"

    maintainers("exaworks")

    license("MIT")

    # sha256 of the published npm tarball (the registry itself lists only sha512 integrity):
    # `sha256sum` of the `npm pack` output at release time. expand=False keeps the .tgz for npm.
    version("0.1.0", sha256="751b3467602e4dab1f3cd159ac4caf5476aff136b38cb35885509d160b3383ec", expand=False)

    # The SDK needs Node 20.19 or later; npm is only used to unpack and install the tarball.
    depends_on("node-js@20.19:", type=("build", "run"))
    depends_on("npm", type="build")
    depends_on("exaworks-jpsi-core@0.1", type=("build", "run"))
    depends_on("exaworks-executors-batch@0.1", type=("build", "run"))

    sanity_check_is_dir = [join_path("lib", "node_modules", "@exaworks/executors-lsf", "dist")]

    def install(self, spec, prefix):
        npm = which("npm", required=True)
        # The sibling @exaworks packages are copied from their own Spack installs (not fetched from
        # the registry), so this install uses exactly the versions Spack concretized.
        siblings = [
            join_path(spec["exaworks-jpsi-core"].prefix, "lib", "node_modules", "@exaworks", "jpsi-core"),
            join_path(spec["exaworks-executors-batch"].prefix, "lib", "node_modules", "@exaworks", "executors-batch"),
        ]
        npm("install", "--global", f"--prefix={prefix}", "--omit=dev", "--install-links", *siblings, self.stage.archive_file)
