"""A Python that sees only some of the installed distributions, as a bare machine would.

The GPU check meets machines with torch, transformers, accelerate, safetensors, numpy and pillow and nothing
else but the wheels it carries. Here every test tool is installed too, and libraries import what they find
(scipy, torchvision, boto3, ...), so a missing dependency hides. `bare_site` links only the files of the given
distributions into one folder; `python -S` with that folder on PYTHONPATH sees nothing else.
"""

import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

BARE_CUDA_MACHINE = ("torch", "transformers", "accelerate", "safetensors", "numpy", "pillow")


def requirement_closure(names):
    """The distributions `names` bring, following every requirement without extras through the metadata of
    what is installed here (a requirement not installed here is named, and not followed)."""
    found, pending = set(), [canonicalize_name(name) for name in names]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.add(name)
        try:
            requirements = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for requirement in map(Requirement, requirements):
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(canonicalize_name(requirement.name))
    return found


def pinned_names(script):
    """The distributions a shell script pins with name==version."""
    return {canonicalize_name(name) for name in re.findall(r"([A-Za-z0-9][A-Za-z0-9._-]*)==", Path(script).read_text())}


def bare_site(directory, allowed):
    """Fills `directory` with links to the installed files of the `allowed` distributions (canonical names) only.
    A top-level folder that other distributions share (a namespace package) is linked file by file."""
    directory = Path(directory)
    installed = {canonicalize_name(dist.metadata["Name"]): dist for dist in metadata.distributions()}
    owners = {}
    for name, dist in installed.items():
        for top in _top_levels(dist):
            owners.setdefault(top, set()).add(name)
    for name in allowed & installed.keys():
        dist = installed[name]
        for file in dist.files or ():
            parts = Path(file).parts
            if parts[0] == "..":
                continue  # scripts in bin/
            shared = not owners[parts[0]] <= allowed
            link = directory.joinpath(*(parts if shared else parts[:1]))
            if not link.is_symlink():
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(dist.locate_file(Path(*(parts if shared else parts[:1]))))
    return directory


def _top_levels(dist):
    return {Path(file).parts[0] for file in dist.files or () if Path(file).parts[0] != ".."}
