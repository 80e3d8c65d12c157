from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from transform.model_files import CONTROLNET_SUBFOLDERS, controlnet_download, files_to_fetch, inpaint_download, sd_download


class Command(BaseCommand):
    help = (
        "Downloads exactly the files the worker loads (fp16 safetensors where the repository has them) for "
        "FTA_SD_MODEL, FTA_CONTROLNET_MODEL and, when set, FTA_SD_INPAINT_MODEL, into DIR/sd, DIR/controlnet "
        "and DIR/sd-inpainting, with a progress bar; then prints the settings that point at them."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", nargs="?", default="var/models", help="where the folders go (default: var/models)")

    def handle(self, directory, **options):
        from huggingface_hub import HfApi, snapshot_download

        downloads = self.downloads()
        if not downloads:
            self.stdout.write("Every model setting is already a local folder: nothing to download.")
            return
        api = HfApi()
        for download in downloads:
            target = Path(directory) / download.folder
            try:
                files = files_to_fetch(download, api.list_repo_files(download.repo_id))
                if not files:
                    raise CommandError(f"{download.repo_id} has none of the files the worker loads: check {download.setting}.")
                self.stdout.write(f"{download.setting}: {len(files)} files of {download.repo_id} into {target}")
                # The real call: huggingface_hub's own progress bars, resumable, only the files listed.
                snapshot_download(download.repo_id, local_dir=target, allow_patterns=files)
            except CommandError:
                raise
            except Exception as error:  # noqa: BLE001  network, offline mode, a gated or missing repository
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise CommandError(
                    f"Could not download {download.repo_id} ({reason}). Run this command where there is network "
                    f"access (and `hf auth login` for a gated repository), then copy {directory} here."
                ) from None
        self.stdout.write(self.style.SUCCESS("Done. Start the worker with:"))
        for download in downloads:
            self.stdout.write(f"{download.setting}={Path(directory) / download.folder}")
        self.stdout.write("and check it with: python manage.py doctor")

    def downloads(self):
        """What to fetch: every model setting that names a Hub repository, not a local folder."""
        wanted = [
            sd_download(settings.FTA_SD_MODEL, safety_checker=settings.FTA_SAFETY_CHECKER),
            controlnet_download(settings.FTA_CONTROLNET_MODEL, CONTROLNET_SUBFOLDERS.get(settings.FTA_CONTROLNET_MODEL, "")),
        ]
        if settings.FTA_SD_INPAINT_MODEL:
            wanted.append(inpaint_download(settings.FTA_SD_INPAINT_MODEL))
        for download in wanted:
            if Path(download.repo_id).expanduser().is_dir():
                self.stdout.write(f"{download.setting}={download.repo_id} is a local folder already: skipped.")
        return [download for download in wanted if not Path(download.repo_id).expanduser().is_dir()]
