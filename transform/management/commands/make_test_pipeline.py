from django.core.management.base import BaseCommand

from tests.full_size_pipeline import write_full_size_pipeline
from tests.tiny_pipeline import write_tiny_pipeline


class Command(BaseCommand):
    help = (
        "Writes a random-weight SD 1.5 + ControlNet pipeline (DIR/sd, DIR/controlnet): tiny (~11 MB) for tests, "
        "or with --full-size the exact SD 1.5 architecture (2.7 GB with --fp16, twice that without) for speed and memory checks."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory")
        parser.add_argument("--full-size", action="store_true", help="SD 1.5's own architecture and sizes")
        parser.add_argument("--fp16", action="store_true", help="with --full-size: half-precision weights")

    def handle(self, directory, full_size=False, fp16=False, **options):
        if full_size:
            sd_dir, controlnet_dir = write_full_size_pipeline(directory, fp16=fp16)
        else:
            sd_dir, controlnet_dir = write_tiny_pipeline(directory)
        self.stdout.write(f"FTA_SD_MODEL={sd_dir}\nFTA_CONTROLNET_MODEL={controlnet_dir}")
