"""The GPU check's pre-flight: in seconds, before the long part, what the machine has and whether it can compile.

Imports nothing beyond the standard library, packaging and torch, so it answers even where diffusers would not
import. bench.gpu puts its answers at the top of the table.
"""

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import warnings
from importlib import metadata
from pathlib import Path

import torch
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

# What the wheels of bench/download_gpu_wheels.sh were built against (requirements.txt pins transformers 5).
TRANSFORMERS = ">=5,<6"
VERSIONS_SHOWN = ("diffusers", "transformers", "huggingface_hub", "compel", "accelerate", "triton")


def problems(device):
    """What stops the check before it starts: no CUDA device, or packages out of the ranges the wheels need."""
    found = []
    if device == "cuda" and not torch.cuda.is_available():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            torch.cuda.is_available()
        why = "; ".join(str(w.message).strip() for w in caught) or "torch.cuda.is_available() is False"
        found.append(f"no CUDA device ({why}); run with --tiny on a CPU")
    found += _out_of_range("transformers", TRANSFORMERS, "compel 2.5 and this engine need transformers 5")
    hub = _required_range("diffusers", "huggingface-hub")
    if hub is not None:
        found += _out_of_range("huggingface_hub", hub, "diffusers' own requirement")
    return found


def compile_blocker(device):
    """Why torch.compile cannot work here, or None. The first compile builds C code against Python.h: Triton's
    launcher on CUDA, Inductor's C++ kernels on the CPU."""
    compiler, looked_for = c_compiler(device)
    if compiler is None:
        return f"no {'C' if device == 'cuda' else 'C++'} compiler ({looked_for}: none found)"
    headers = python_include_dir() / "Python.h"
    if not headers.is_file():
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        return f"no Python.h in {headers.parent} (install Python {version}'s headers, e.g. the python{version}-dev package)"
    return None


def c_compiler(device):
    """(path or None, what was looked for), found the way torch.compile finds it: Triton takes $CC, else gcc, else
    clang; Inductor's CPU kernels take $CXX, else g++."""
    variable, names = ("CC", ("gcc", "clang")) if device == "cuda" else ("CXX", ("g++",))
    if os.environ.get(variable):
        return shutil.which(os.environ[variable]), f"${variable}={os.environ[variable]}"
    found = (shutil.which(name) for name in names)
    return next((path for path in found if path), None), f"${variable} unset, {' or '.join(names)} on PATH"


def python_include_dir():
    """Where Triton looks for Python.h (triton/runtime/build.py)."""
    scheme = sysconfig.get_default_scheme()
    return Path(sysconfig.get_paths(scheme="posix_prefix" if scheme == "posix_local" else scheme)["include"])


def versions():
    """'name version' for each package the table's header names; 'name missing' where there is none."""
    return ", ".join(f"{name} {_version(name) or 'missing'}" for name in VERSIONS_SHOWN)


def cuda_versions():
    """CUDA (torch's build), cuDNN and the NVIDIA driver, for the header."""
    cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    return f"CUDA {torch.version.cuda}, cuDNN {cudnn or 'none'}, driver {driver_version()}"


def driver_version():
    try:
        text = Path("/proc/driver/nvidia/version").read_text(encoding="utf-8", errors="replace")
        if match := re.search(r"Kernel Module(?: for \S+)?\s+(\d[\d.]*)", text):
            return match.group(1)
    except OSError:
        pass
    try:
        query = ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"]
        answer = subprocess.run(query, capture_output=True, text=True, timeout=20)
        if answer.returncode == 0 and answer.stdout.strip():
            return answer.stdout.split()[0]
    except (OSError, subprocess.SubprocessError):
        pass
    return "unknown"


def _version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _required_range(package, dependency):
    """The version range `package`'s metadata requires of `dependency`, or None when either is missing."""
    try:
        requirements = metadata.requires(package) or []
    except metadata.PackageNotFoundError:
        return None
    for line in requirements:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == dependency and requirement.marker is None:
            return str(requirement.specifier)
    return None


def _out_of_range(name, specifier, why):
    installed = _version(name)
    if installed is None:
        return [f"{name} is missing ({why}: {specifier})"]
    if Version(installed) not in SpecifierSet(specifier):
        return [f"{name} {installed} is outside {specifier} ({why})"]
    return []
