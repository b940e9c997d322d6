# Copyright ExaWorks SDK contributors.
# SPDX-License-Identifier: MIT

from spack_repo.builtin.build_systems.generic import Package

from spack.package import *


class ExaworksCli(Package):
    """The exaworks command line of the ExaWorks SDK for TypeScript: run, submit, watch and cancel PSI/J jobs."""

    homepage = "https://github.com/exaworks/sdk-typescript"
    url = "https://registry.npmjs.org/@exaworks/cli/-/cli-0.1.0.tgz"

    maintainers("exaworks")

    license("MIT")

    # sha256 of the published npm tarball (the registry itself lists only sha512 integrity):
    # `sha256sum` of the `npm pack` output at release time. expand=False keeps the .tgz for npm.
    version("0.1.0", sha256="bbb515aeb1dd231fb71fc33da25c401c2de37cc6c4f460c11cb1678534d5df1d", expand=False)

    # The SDK needs Node 20.19 or later; npm is only used to unpack and install the tarball.
    depends_on("node-js@20.19:", type=("build", "run"))
    depends_on("npm", type="build")
    depends_on("exaworks-jpsi-core@0.1", type=("build", "run"))
    depends_on("exaworks-launcher@0.1", type=("build", "run"))
    depends_on("exaworks-executors-local@0.1", type=("build", "run"))
    depends_on("exaworks-messaging@0.1", type=("build", "run"))
    depends_on("exaworks-executors-batch@0.1", type=("build", "run"))
    depends_on("exaworks-executors-slurm@0.1", type=("build", "run"))
    depends_on("exaworks-executors-pbs@0.1", type=("build", "run"))
    depends_on("exaworks-executors-lsf@0.1", type=("build", "run"))
    depends_on("exaworks-executors-cobalt@0.1", type=("build", "run"))
    depends_on("exaworks-executors-flux@0.1", type=("build", "run"))

    sanity_check_is_file = [join_path("bin", "exaworks")]

    def install(self, spec, prefix):
        npm = which("npm", required=True)
        # The sibling @exaworks packages are copied from their own Spack installs (not fetched from
        # the registry), so this install uses exactly the versions Spack concretized.
        siblings = [
            join_path(spec["exaworks-jpsi-core"].prefix, "lib", "node_modules", "@exaworks", "jpsi-core"),
            join_path(spec["exaworks-launcher"].prefix, "lib", "node_modules", "@exaworks", "launcher"),
            join_path(spec["exaworks-executors-local"].prefix, "lib", "node_modules", "@exaworks", "executors-local"),
            join_path(spec["exaworks-messaging"].prefix, "lib", "node_modules", "@exaworks", "messaging"),
            join_path(spec["exaworks-executors-batch"].prefix, "lib", "node_modules", "@exaworks", "executors-batch"),
            join_path(spec["exaworks-executors-slurm"].prefix, "lib", "node_modules", "@exaworks", "executors-slurm"),
        ]
        npm("install", "--global", f"--prefix={prefix}", "--omit=dev", "--install-links", *siblings, self.stage.archive_file)
