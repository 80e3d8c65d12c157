from django.core.management.base import BaseCommand

from transform.tiny_pipeline import write_tiny_pipeline


class Command(BaseCommand):
    help = "Writes a tiny random-weight SD 1.5 + ControlNet pipeline (DIR/sd, DIR/controlnet) for tests and benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("directory")

    def handle(self, directory, **options):
        sd_dir, controlnet_dir = write_tiny_pipeline(directory)
        self.stdout.write(f"FTA_SD_MODEL={sd_dir}\nFTA_CONTROLNET_MODEL={controlnet_dir}")
