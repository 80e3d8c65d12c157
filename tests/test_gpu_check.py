"""The GPU check (bench/gpu_check.sh) runs end to end on the CPU with --tiny, so it cannot rot before it meets a GPU."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent


def test_gpu_check_imports_nothing_a_bare_cuda_machine_lacks():
    # Such a machine has torch, transformers, numpy and pillow, and gets diffusers and compel as wheels.
    code = (
        "import sys, bench.gpu; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'django', 'gallery', 'facetoanimals', 'controlnet_aux', 'mediapipe', 'cv2', 'skimage'}))"
    )
    found = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_tiny_gpu_check_writes_a_table_with_every_check_passing(tmp_path):
    from bench.gpu import main

    out = tmp_path / "table.md"
    main(["--tiny", "--out", str(out), "--steps", "2", "--check-steps", "2", "--runs", "1", "--batches", "1,2"])
    table = out.read_text(encoding="utf-8")
    assert "| anchor: plain diffusers" in table and "| + fused QKV projections | 1 |" in table
    assert "| same, batched | 2 |" in table
    assert "| sampler UniPC | ok:" in table and "| cancel after step 2 | ok:" in table
    assert "FAILED" not in table
