"""Removing users' files together with their rows, and only once the rows are really gone."""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Generation, Photo, delete_stored, user_media_dir

FILE_FIELDS = {
    Photo: ("image", "thumbnail"),
    Generation: ("result", "display", "thumbnail", "control_image", "face_crop"),
}


def delete_files_on_commit(files):
    """Delete stored files after the transaction commits, so a rollback never loses a file."""
    files = list(files)
    transaction.on_commit(lambda: delete_stored(files))


@receiver(post_delete, sender=Photo)
@receiver(post_delete, sender=Generation)
def remove_files(sender, instance, **kwargs):
    delete_files_on_commit(getattr(instance, name) for name in FILE_FIELDS[sender])


@receiver(post_delete, sender=Generation)
def remove_job_and_preview(sender, instance, **kwargs):
    # However it was deleted (itself, its photo, its account): a worker running it stops at its next step.
    from gallery.generations import lifecycle

    transaction.on_commit(lambda: lifecycle.forget(instance))


def delete_user(user):
    """Delete a user, every row of theirs, and their whole media folder."""
    folder = Path(settings.MEDIA_ROOT) / user_media_dir(user.pk)
    with transaction.atomic():
        user.delete()
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
