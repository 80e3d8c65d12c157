"""The FTA_* engine settings: parsed strictly, and passed to the engine as arguments in one place."""

from tests.processes import run_python


def test_a_misspelt_precision_stops_start_up_naming_the_setting():
    result = run_python("import django; django.setup()", FTA_PRECISION="fp61")
    assert result.returncode != 0
    assert "FTA_PRECISION must be one of auto, fp16, bf16, fp32, not 'fp61'." in result.stderr


def test_settings_become_the_engines_load_options(settings):
    from gallery.generations.engine_settings import load_options_from_settings
    from transform.pipeline import LoadOptions

    settings.FTA_PRECISION, settings.FTA_CHANNELS_LAST, settings.FTA_FUSE_QKV = "bf16", "0", "auto"
    settings.FTA_TORCH_COMPILE, settings.FTA_CUDA_GRAPHS, settings.FTA_TORCH_THREADS = True, True, 3
    options = load_options_from_settings()
    assert options == LoadOptions(
        precision="bf16", channels_last=False, fuse_qkv=None, compile=True, cuda_graphs=True, torch_threads=3
    )


def test_auto_options_are_on_for_cuda_and_off_for_the_cpu():
    from transform.pipeline import LoadOptions

    cpu, cuda = LoadOptions().resolved("cpu"), LoadOptions(compile=True, cuda_graphs=True).resolved("cuda:0")
    assert (cpu.precision, cpu.channels_last, cpu.fuse_qkv) == ("fp32", False, False)
    assert (cuda.precision, cuda.channels_last, cuda.fuse_qkv, cuda.cuda_graphs) == ("fp16", True, True, True)
    assert not LoadOptions(compile=True, cuda_graphs=True).resolved("cpu").cuda_graphs
