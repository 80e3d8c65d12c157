from io import StringIO

import pytest
from django.core.management import call_command


def doctor():
    out = StringIO()
    try:
        call_command("doctor", stdout=out)
    except SystemExit as exit:
        return exit.code, out.getvalue()
    return 0, out.getvalue()


@pytest.mark.django_db
def test_every_check_passes_with_the_tiny_pipeline(settings, tiny_pipeline_dir):
    settings.FTA_SD_MODEL = str(tiny_pipeline_dir / "sd")
    settings.FTA_CONTROLNET_MODEL = str(tiny_pipeline_dir / "controlnet")
    code, out = doctor()
    assert code == 0, out
    names = ("database", "redis", "media storage", "mediapipe", "second face detector", "SD model", "ControlNet model")
    for name in (*names, "inpainting model", "device"):
        assert f"ok   {name}:" in out


@pytest.mark.django_db
def test_missing_weights_and_redis_each_say_what_to_do(settings, tmp_path):
    settings.FTA_SD_MODEL = "nobody/no-such-model"
    settings.FTA_CONTROLNET_MODEL = str(tmp_path)  # a folder without a config.json
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    code, out = doctor()
    assert code == 1
    assert "FAIL SD model: FTA_SD_MODEL=nobody/no-such-model" in out and "python manage.py download_models" in out
    assert f"FAIL ControlNet model: FTA_CONTROLNET_MODEL={tmp_path} has no config.json" in out
    assert "FAIL redis: Redis does not answer" in out and "REDIS_URL" in out
    assert "ok   database:" in out


@pytest.mark.django_db
def test_an_inpainting_model_folder_without_a_unet_is_named(settings, tiny_pipeline_dir, tmp_path):
    settings.FTA_SD_INPAINT_MODEL = str(tmp_path)
    code, out = doctor()
    assert code == 1
    assert f"FAIL inpainting model: FTA_SD_INPAINT_MODEL={tmp_path} has no unet/config.json" in out


@pytest.mark.parametrize("device", ["cuda", "cuda:1"])
def test_a_cuda_device_without_a_visible_gpu_is_named(settings, monkeypatch, device):
    from gallery.management.commands import doctor as command

    monkeypatch.setattr(command.shutil, "which", lambda program: None)  # a machine without NVIDIA's driver
    monkeypatch.setattr(command.os.path, "exists", lambda path: False)
    settings.FTA_DEVICE = device
    with pytest.raises(command.CheckFailed, match=f"FTA_DEVICE={device} but no NVIDIA GPU is visible"):
        command.check_device()
