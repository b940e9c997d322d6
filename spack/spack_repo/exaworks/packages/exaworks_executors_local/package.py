# Copyright ExaWorks SDK contributors.
# SPDX-License-Identifier: MIT

from spack_repo.builtin.build_systems.generic import Package

from spack.package import *


class ExaworksExecutorsLocal(Package):
    """The local PSI/J executor of the ExaWorks SDK for TypeScript: durable local process execution.

    Shell-free jobs start fastest through the system's python3 (/usr/bin/python3, or RHEL's
    /usr/libexec/platform-python, 3.6 or later), used when present and not a dependency: without
    it, jobs run through their shell scripts.
    """

    homepage = "https://github.com/exaworks/sdk-typescript"
    url = "https://registry.npmjs.org/@exaworks/executors-local/-/executors-local-0.1.0.tgz"

    maintainers("exaworks")

    license("MIT")

    # sha256 of the published npm tarball (the registry itself lists only sha512 integrity):
    # `sha256sum` of the `npm pack` output at release time. expand=False keeps the .tgz for npm.
    version("0.1.0", sha256="4e7acdd88d9c6112b1b18d43a296cbdf831b65ae9144c85fbdb56bed2df171cb", expand=False)

    # The SDK needs Node 20.19 or later; npm is only used to unpack and install the tarball.
    depends_on("node-js@20.19:", type=("build", "run"))
    depends_on("npm", type="build")
    depends_on("exaworks-jpsi-core@0.1", type=("build", "run"))
    depends_on("exaworks-launcher@0.1", type=("build", "run"))

    sanity_check_is_dir = [join_path("lib", "node_modules", "@exaworks/executors-local", "dist")]

    def install(self, spec, prefix):
        npm = which("npm", required=True)
        # The sibling @exaworks packages are copied from their own Spack installs (not fetched from
        # the registry), so this install uses exactly the versions Spack concretized.
        siblings = [
            join_path(spec["exaworks-jpsi-core"].prefix, "lib", "node_modules", "@exaworks", "jpsi-core"),
            join_path(spec["exaworks-launcher"].prefix, "lib", "node_modules", "@exaworks", "launcher"),
        ]
        npm("install", "--global", f"--prefix={prefix}", "--omit=dev", "--install-links", *siblings, self.stage.archive_file)
