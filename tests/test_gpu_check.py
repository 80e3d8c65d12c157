"""The GPU check (bench/gpu_check.sh) runs end to end on the CPU with --tiny, so it cannot rot before it meets a GPU:
on a Python as bare as that machine's, without a compiler, with a compile that fails, and with no time to compile."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from bench.gpu import main, markdown_cell
from tests.bare_python import BARE_CUDA_MACHINE, bare_site, pinned_names, requirement_closure

ROOT = Path(__file__).parent.parent
QUICK = ["--tiny", "--steps", "2", "--check-steps", "2", "--runs", "1"]
EAGER_ROWS = (
    "| anchor: plain diffusers",
    "| + fused QKV projections | 1 |",
    "| sampler UniPC | ok:",
    "| cancel after step 2 | ok:",
)

IMPORTS_AFTER_A_RUN = """
import json, sys
from importlib import metadata
from bench.gpu import main
status = main(sys.argv[1:])
names = {name.partition(".")[0] for name in list(sys.modules)}
distributions = metadata.packages_distributions()
print(json.dumps({
    "status": status,
    "distributions": sorted({dist for name in names for dist in distributions.get(name, [])}),
    "project": sorted(names & {"gallery", "facetoanimals", "django"}),
}))
"""


def run_check(tmp_path, *flags):
    out = tmp_path / "table.md"
    status = main([*QUICK, "--out", str(out), *flags])
    return status, out.read_text(encoding="utf-8")


def test_gpu_check_runs_on_a_bare_python_with_the_six_packages_and_the_wheels_only(tmp_path):
    # The bare CUDA machine: what its six packages bring (their metadata's requirements, followed), plus the wheels
    # bench/download_gpu_wheels.sh names, which bench/gpu_check.sh installs there with --no-deps.
    allowed = requirement_closure(BARE_CUDA_MACHINE) | pinned_names(ROOT / "bench" / "download_gpu_wheels.sh")
    site = bare_site(tmp_path / "site", allowed)
    done = subprocess.run(
        [sys.executable, "-S", "-c", IMPORTS_AFTER_A_RUN, *QUICK, "--batches", "1,2", "--out", str(tmp_path / "table.md")],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": f"{ROOT}:{site}"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["status"] == 0
    assert {canonicalize_name(name) for name in found["distributions"]} <= allowed
    assert "diffusers" in found["distributions"] and "compel" in found["distributions"]
    assert found["project"] == []


def test_tiny_gpu_check_writes_a_table_with_every_check_passing(tmp_path):
    status, table = run_check(tmp_path, "--batches", "1,2")
    assert status == 0
    assert all(row in table for row in EAGER_ROWS) and "| same, batched | 2 |" in table
    assert "FAILED" not in table
    assert "| + torch.compile: not compiled (off with --tiny: --compile compiles on the CPU) | 2 |" in table
    assert "Whole check:" in table


def test_without_a_cuda_device_the_check_stops_at_the_preflight_with_one_line():
    with pytest.raises(SystemExit) as stopped:
        main(["--batches", "1"])
    message = str(stopped.value)
    assert message.startswith("Pre-flight: no CUDA device (") and message.endswith("; run with --tiny on a CPU.")


def test_the_header_names_every_version_that_matters(tmp_path):
    _, table = run_check(tmp_path, "--batches", "1")
    header = table.split("Built the pipeline")[0]
    for package in ("torch", "diffusers", "transformers", "huggingface_hub", "compel", "accelerate", "Python"):
        assert f"{package} " in header
    assert "no CUDA" in header  # on a GPU: CUDA, cuDNN and driver versions in its place


def test_a_cell_with_a_pipe_or_a_line_break_stays_one_cell():
    assert markdown_cell("FAILED: a | b\nline two") == "FAILED: a \\| b<br>line two"


def test_compile_budget_0_compiles_nothing(tmp_path):
    status, table = run_check(tmp_path, "--batches", "1,2", "--compile", "--compile-budget", "0")
    assert status == 0
    assert "| + torch.compile: not compiled (--compile-budget 0) | 1 |" in table
    assert "| + torch.compile: not compiled (--compile-budget 0) | 2 |" in table
    assert not (tmp_path / "table.compile-cache").exists()


def test_without_a_compiler_the_preflight_skips_compiling_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-g++"))  # Inductor's compiler on the CPU; Triton's is $CC
    status, table = run_check(tmp_path, "--batches", "1", "--compile")
    assert status == 0
    assert f"Compiling: no (no C++ compiler ($CXX={tmp_path / 'no-such-g++'}: none found))." in table
    assert all(row in table for row in EAGER_ROWS)
    assert "| + torch.compile: not compiled (no C++ compiler" in table


def test_a_compile_that_fails_leaves_a_complete_table_with_the_eager_rows(tmp_path, monkeypatch):
    # A compiler that is there but cannot compile: the pre-flight lets it through, the compile itself fails.
    monkeypatch.setenv("CXX", "/bin/false")
    status, table = run_check(tmp_path, "--batches", "1", "--compile")
    assert status == 0
    assert all(row in table for row in EAGER_ROWS)
    assert "| + torch.compile: FAILED " in table and "No working C++ compiler" in table
    assert "Compiled against eager: not measured" in table and "Whole check:" in table


def test_the_compile_budget_is_a_deadline(tmp_path):
    # Compiling the tiny pipeline takes minutes on this CPU: the compile process is stopped when its time is up.
    status, table = run_check(tmp_path, "--batches", "1", "--compile", "--compile-budget", "3")
    assert status == 0
    assert "| + torch.compile: stopped at the --compile-budget deadline (3 s), still compiling | 1 |" in table
    assert "Whole check:" in table
