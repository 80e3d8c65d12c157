"""Removing users' files together with their rows, and only once the rows are really gone."""

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .generations import lifecycle
from .models import Generation, PendingFileDeletion, Photo, delete_stored
from .storage import STORAGE_ERRORS

FILE_FIELDS = {
    Photo: ("image", "thumbnail"),
    Generation: ("result", "display", "thumbnail", "control_image", "face_crop"),
}


def delete_files_on_commit(files):
    """Delete stored files after the transaction commits, so a rollback never loses a file."""
    files = list(files)
    transaction.on_commit(lambda: delete_stored(files))


def purge_pending_deletions(limit=1000):
    """Delete the files storage refused earlier; stops at the first refusal. Returns how many went."""
    purged = 0
    for pending in PendingFileDeletion.objects.order_by("created_at")[:limit]:
        try:
            default_storage.delete(pending.name)
        except STORAGE_ERRORS:
            break
        pending.delete()
        purged += 1
    return purged


@receiver(post_delete, sender=Photo)
@receiver(post_delete, sender=Generation)
def remove_files(sender, instance, **kwargs):
    delete_files_on_commit(getattr(instance, name) for name in FILE_FIELDS[sender])


@receiver(post_delete, sender=Generation)
def remove_job_and_preview(sender, instance, **kwargs):
    # However it was deleted (itself, its photo, its account): a worker running it stops at its next step.
    # Read now: Django sets the instance's pk to None once the deletion is done, before this commits.
    generation_id, job_id = instance.pk, instance.job_id
    transaction.on_commit(lambda: lifecycle.forget(generation_id, job_id))


def delete_user(user):
    """Delete a user and every row of theirs; each row's files go with it (remove_files above)."""
    with transaction.atomic():
        user.delete()
