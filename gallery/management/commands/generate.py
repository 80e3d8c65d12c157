import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from PIL import Image, ImageOps

from transform.breeds import is_breed
from transform.params import GenerationParams, InvalidParams


class Command(BaseCommand):
    help = "One dog portrait from the command line, with the web app's engine and defaults."

    def add_arguments(self, parser):
        parser.add_argument("photo")
        parser.add_argument("--breed", required=True, help="a breed slug from transform/data/breeds.json")
        parser.add_argument("--coat", help="a coat colour the breed comes in")
        parser.add_argument("--face", type=int, default=0, help="0-based index of the face to use")
        parser.add_argument("--seed", help="default: random (recorded in the PNG)")
        parser.add_argument("--steps")
        parser.add_argument("--width")
        parser.add_argument("--height")
        parser.add_argument("--out", required=True, help="the PNG to write (with A1111 metadata)")
        parser.add_argument("--control-out", help="also write the control image used")
        parser.add_argument("--landmarks", help="a landmark JSON file to use instead of detecting faces")

    def handle(self, photo, breed, coat, face, out, control_out, landmarks, **options):
        if not is_breed(breed):
            raise CommandError(f"Unknown breed {breed!r}.")
        overrides = {name: options[name] for name in ("seed", "steps", "width", "height") if options[name] is not None}
        try:
            params = GenerationParams.from_dict(overrides)
        except InvalidParams as error:
            raise CommandError(str(error)) from None
        try:
            image = ImageOps.exif_transpose(Image.open(photo)).convert("RGB")
        except OSError as error:
            raise CommandError(f"Cannot read {photo}: {error}") from None
        faces = self._faces(image, landmarks)
        if not 0 <= face < len(faces):
            raise CommandError(f"No face {face}: the photo has {len(faces)} face(s).")

        # Imported here: loading torch and diffusers takes seconds, not worth paying for --help.
        from gallery.generations.engine_settings import engine_from_settings

        engine = engine_from_settings()
        self.stdout.write(f"Loading {engine.sd_model} + {engine.controlnet_model} on {engine.device}...")
        self.stdout.write(f"Model load: {engine.load():.2f} s")
        last = [time.perf_counter()]

        def on_step(step, steps, latents):
            now = time.perf_counter()
            self.stdout.write(f"step {step}/{steps}: {now - last[0]:.3f} s")
            last[0] = now

        result = engine.generate(image, faces[face], params, breed, coat=coat, on_step=on_step)
        Path(out).write_bytes(result.png)
        if control_out:
            result.control_image.save(control_out)
        timings = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in result.timings.items())
        self.stdout.write(f"Wrote {out} (seed {result.seed}); {timings}")

    def _faces(self, image, landmarks_path):
        if landmarks_path:
            return json.loads(Path(landmarks_path).read_text(encoding="utf-8"))["faces"]
        from transform.faces import analyze_faces

        return analyze_faces(image)["faces"]
