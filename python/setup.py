"""Build the `lmz` package: lmz/ (Python) and lmz._lmz (a CPython extension
over liblmz's public API, include/lmz.h).

Where liblmz comes from, in this order:
  1. LMZ_BUILD_DIR=<a cmake build of lmz> (default: ../build beside this
     folder, what scripts/setup.sh builds): the static liblmz.a of that
     build, include/lmz.h of the source tree, and the libraries liblmz needs
     (Requires.private / Libs.private of that build's lmz.pc, resolved with
     pkg-config). The extension then needs nothing of the build at run time.
  2. pkg-config lmz (an installed prefix: PKG_CONFIG_PATH=<prefix>/lib/pkgconfig),
     linked statically the same way (--static).
"""
import os
import re
import shlex
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(HERE)


def pkg_config(*args):
    out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True).stdout
    return shlex.split(out)


def pc_field(pc_text, field):
    m = re.search(r"^%s:\s*(.*)$" % re.escape(field), pc_text, re.M)
    return m.group(1).strip() if m else ""


def from_build_dir(build):
    lib = os.path.join(build, "liblmz.a")
    pc = os.path.join(build, "lmz.pc")
    if not (os.path.exists(lib) and os.path.exists(pc)):
        raise SystemExit(
            "lmz: %s has no liblmz.a/lmz.pc: build it first (scripts/setup.sh, or cmake --build %s "
            "--target lmz_static), or set LMZ_BUILD_DIR" % (build, build))
    with open(pc) as f:
        text = f.read()
    requires = pc_field(text, "Requires.private").replace(",", " ").split()
    libs = pkg_config("--libs", *requires) if requires else []
    libs += shlex.split(pc_field(text, "Libs.private"))
    include = os.path.join(SOURCE_ROOT, "include")
    return dict(include_dirs=[include], extra_objects=[lib], extra_link_args=libs,
                depends=[lib, os.path.join(include, "lmz.h")])


def from_pkg_config():
    cflags = pkg_config("--cflags", "lmz")
    libs = pkg_config("--libs", "--static", "lmz")
    # prefer the static archive, so the extension does not need LD_LIBRARY_PATH
    libdirs = [a[2:] for a in libs if a.startswith("-L")]
    for d in libdirs:
        if os.path.exists(os.path.join(d, "liblmz.a")):
            libs = [a for a in libs if a != "-llmz"]
            return dict(extra_compile_args=cflags, extra_objects=[os.path.join(d, "liblmz.a")],
                        extra_link_args=libs)
    return dict(extra_compile_args=cflags, extra_link_args=libs)


def liblmz():
    build = os.environ.get("LMZ_BUILD_DIR")
    if build:
        return from_build_dir(os.path.abspath(build))
    default = os.path.join(SOURCE_ROOT, "build")
    if os.path.exists(os.path.join(default, "liblmz.a")):
        return from_build_dir(default)
    try:
        return from_pkg_config()
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("lmz: liblmz not found: set LMZ_BUILD_DIR to a cmake build of lmz, or "
                         "PKG_CONFIG_PATH to an installed prefix's lib/pkgconfig")


class BuildExt(build_ext):
    # always relink: liblmz.a may have changed (or LMZ_BUILD_DIR pointed elsewhere)
    def initialize_options(self):
        super().initialize_options()
        self.force = True


cfg = liblmz()
cfg["extra_compile_args"] = ["-Wall"] + cfg.get("extra_compile_args", [])
ext = Extension("lmz._lmz", sources=["src/_lmz.c"], **cfg)

setup(
    name="lmz",
    version="0.1.0",
    description="Python bindings of liblmz: random access into lmz archives, numpy and PyTorch",
    packages=["lmz"],
    ext_modules=[ext],
    cmdclass={"build_ext": BuildExt},
    python_requires=">=3.9",
    install_requires=[],
    extras_require={"numpy": ["numpy"]},
)
