"""Removing users' files together with their rows, and only once the rows are really gone."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import Generation, Photo, delete_stored

FILE_FIELDS = {
    Photo: ("image", "thumbnail"),
    Generation: ("result", "thumbnail", "control_image", "face_crop"),
}


def delete_files_on_commit(files):
    """Delete stored files after the transaction commits, so a rollback never loses a file."""
    files = list(files)
    transaction.on_commit(lambda: delete_stored(files))


@receiver(post_delete, sender=Photo)
@receiver(post_delete, sender=Generation)
def remove_files(sender, instance, **kwargs):
    delete_files_on_commit(getattr(instance, name) for name in FILE_FIELDS[sender])


def delete_user(user):
    """Delete a user and every row of theirs; each row's files go with it (remove_files above)."""
    with transaction.atomic():
        user.delete()
