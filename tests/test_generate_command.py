import io
import json

from django.core.management import call_command
from PIL import Image
from sd_parsers import ParserManager

from tests.face_helpers import astronaut, landmark_json


def test_generate_writes_a_png_with_readable_metadata(tiny_pipeline_dir, tmp_path, settings):
    settings.FTA_SD_MODEL = str(tiny_pipeline_dir / "sd")
    settings.FTA_CONTROLNET_MODEL = str(tiny_pipeline_dir / "controlnet")
    settings.FTA_DEVICE = "cpu"
    photo, landmarks = tmp_path / "astronaut.png", tmp_path / "landmarks.json"
    astronaut().save(photo)
    landmarks.write_text(json.dumps(landmark_json(astronaut())))
    out, control_out, stdout = tmp_path / "dog.png", tmp_path / "control.png", io.StringIO()

    call_command(
        "generate",
        str(photo),
        "--breed",
        "pug",
        "--seed",
        "77",
        "--steps",
        "2",
        "--width",
        "256",
        "--height",
        "256",
        "--landmarks",
        str(landmarks),
        "--out",
        str(out),
        "--control-out",
        str(control_out),
        stdout=stdout,
    )

    (sampler,) = ParserManager().parse(Image.open(out)).samplers
    assert sampler.parameters == {"cfg_scale": "7", "seed": "77", "steps": "2"}
    assert [p.value for p in sampler.prompts] == ["dog, close up, (face portrait:1.1), front face, pug"]
    assert Image.open(control_out).getbbox() is not None
    assert "step 1/2" in stdout.getvalue() and "step 2/2" in stdout.getvalue()
