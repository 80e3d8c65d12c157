import logging
import secrets
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Case, OuterRef, Q, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .breed_names import breed_name
from .storage import STORAGE_ERRORS, StorageUnavailable, is_storage_error, is_storage_outage

log = logging.getLogger(__name__)


def delete_stored(field_files):
    """Remove the files behind these FieldFiles from storage; empty fields are skipped."""
    delete_or_remember([(stored.storage, stored.name) for stored in field_files if stored])


def delete_or_remember(files, storage_failed=False):
    """Delete stored files, given as (storage, name). Once storage refuses one (it is down), that one and
    the rest are written down for the reconcile pass without another try, so a storage that hangs costs
    one bounded wait, not one per file; with storage_failed (the caller just saw it fail), all are."""
    for storage, name in files:
        if not storage_failed:
            try:
                storage.delete(name)
                continue
            except STORAGE_ERRORS as exc:
                log.warning("Storage refused to delete %s (%s): the reconcile pass retries", name, exc)
                storage_failed = True
        PendingFileDeletion.objects.get_or_create(name=name)


def save_stored(instance, files):
    """Save {field: (file name, bytes)} into the instance's file fields (not the row): all or none.

    Each name is chosen and remembered before its bytes are written, so a write that fails half-way
    (a full disk, storage going down) leaves no partial file behind: every file of the set is deleted
    (or written down for the reconcile pass when storage is down), and the error raised.
    """
    written = []  # (storage, name): the name goes in before the bytes go out
    try:
        for field, (filename, data) in files.items():
            stored = getattr(instance, field)
            name = stored.field.generate_filename(instance, filename)
            written.append((stored.storage, name))
            stored.name = stored.storage.save(name, ContentFile(data), max_length=stored.field.max_length)
            written.append((stored.storage, stored.name))  # the storage may have picked another name
    except BaseException as exc:
        delete_or_remember(dict.fromkeys(written), storage_failed=is_storage_outage(exc))
        for field in files:
            getattr(instance, field).name = None
        raise


def _random_name(instance, kind, ext):
    # The key names neither the user nor the photo: a bucket listing or a leaked key tells nothing.
    return f"{kind}/{uuid.uuid4().hex}.{ext}"


def photo_image_path(instance, filename):
    return _random_name(instance, "photos", "jpg")


def photo_thumbnail_path(instance, filename):
    return _random_name(instance, "photos", "webp")


def generation_result_path(instance, filename):
    return _random_name(instance, "dogs", "png")


def generation_thumbnail_path(instance, filename):
    return _random_name(instance, "dogs", "webp")


def generation_display_path(instance, filename):
    return _random_name(instance, "dogs", "webp")


def generation_control_path(instance, filename):
    return _random_name(instance, "control", "png")


def generation_face_path(instance, filename):
    return _random_name(instance, "faces", "webp")


class Photo(models.Model):
    """A cleaned upload (metadata stripped, re-encoded) and the faces found in it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to=photo_image_path)
    thumbnail = models.FileField(upload_to=photo_thumbnail_path, blank=True)
    original_name = models.CharField(max_length=255, blank=True, help_text="Sanitised display text only.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # The landmark JSON (docs/API.md): {"version": 1, "image_size": [w, h], "faces": [...]}.
    landmarks = models.JSONField(default=dict)
    face_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("photo")
        verbose_name_plural = _("photos")

    def __str__(self):
        return self.original_name or str(self.id)

    @property
    def faces(self):
        return self.landmarks.get("faces", [])

    @classmethod
    def create_from_upload(cls, owner, cleaned, landmarks):
        """Store a cleaned upload (transform.uploads.CleanedPhoto); no row without files, no files without a row."""
        from transform.uploads import make_thumbnail

        photo = cls(
            owner=owner,
            original_name=cleaned.display_name,
            width=cleaned.width,
            height=cleaned.height,
            landmarks=landmarks,
            face_count=len(landmarks["faces"]),
        )
        try:
            save_stored(photo, {"image": ("photo.jpg", cleaned.jpeg), "thumbnail": ("thumb.webp", make_thumbnail(cleaned.image))})
            with transaction.atomic():
                photo.save()
        except BaseException as exc:
            delete_stored((photo.image, photo.thumbnail))  # written, but the row was not
            if is_storage_error(exc):
                raise StorageUnavailable from exc
            raise
        return photo


# A queued generation's place is counted exactly up to here; further back it is "more than this many
# ahead". Counting stops there, so a status poll costs the same however long the queue is.
QUEUE_PLACES_COUNTED = 100


class CountRows(models.Subquery):
    """How many rows a subquery returns: a COUNT over it, so the subquery's LIMIT bounds the work."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = models.IntegerField()


class GenerationQuerySet(models.QuerySet):
    def with_queue_ahead(self):
        """Annotates `queued_ahead`: for a queued generation, the queued generations enqueued before it,
        counted up to QUEUE_PLACES_COUNTED + 1 (a range read of that many entries of the (status,
        enqueued_at) index, at most); None for any other. Read live, so a cancel, a deletion, a re-queue
        (a new enqueued_at) or a batch taking dogs from further back shows at the next poll."""
        ahead = (
            Generation.objects.filter(status=Generation.Status.QUEUED, enqueued_at__lt=OuterRef("enqueued_at"))
            .order_by()
            .values("pk")[: QUEUE_PLACES_COUNTED + 1]
        )
        queued = When(status=Generation.Status.QUEUED, enqueued_at__isnull=False, then=CountRows(ahead))
        return self.annotate(queued_ahead=Case(queued, default=None))


class Generation(models.Model):
    """One dog portrait job; this row, not the queue, is the source of truth."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATUSES = (Status.QUEUED, Status.RUNNING)
    FINAL_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)
    # Not a column: set by gallery.generations.lifecycle once it pushed this generation's job, False when
    # Redis did not take it (down or hung), so the page can say the queue is busy.
    pushed: bool | None = None

    class Review(models.TextChoices):
        PENDING = "pending", _("Pending review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generations")
    photo = models.ForeignKey(Photo, on_delete=models.CASCADE, related_name="generations")
    face_index = models.PositiveSmallIntegerField(default=0)
    breed = models.SlugField(max_length=64, db_index=True)
    # The coat colour picked to match the person's hair, for breeds that come in several ("" = the breed's own).
    coat = models.CharField(max_length=64, blank=True)
    # A group photo ("make everyone a dog"): [{"index", "breed", "coat"}] per face to make, in order;
    # empty for a single dog. The faces left out as too small: [{"index", "reason"}].
    group_faces = models.JSONField(default=list, blank=True)
    skipped_faces = models.JSONField(default=list, blank=True)
    # Dogs asked for together ("Make 4", "Make all five") share one id and one page (gallery:lineup).
    lineup = models.UUIDField(null=True, blank=True, db_index=True, editable=False)
    # How many dogs this generation makes (1, or a group's faces): the per-user limits count these.
    faces = models.PositiveSmallIntegerField(default=1)
    # Group progress: the face being made (1-based; with batching, the last face of the running batch).
    face = models.PositiveSmallIntegerField(default=0)
    # transform.params.GenerationParams.to_dict(), with the seed actually used.
    params = models.JSONField(default=dict)
    seed = models.BigIntegerField(null=True, blank=True)
    infotext = models.TextField(blank=True, help_text="The A1111 `parameters` text written into the PNG.")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True)
    step = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    # Runs that the dog itself could have ended (the engine raising on it, out of memory, a timeout): a
    # run cut short by our own outage (a lost worker, database or storage, a stop) gives its attempt back
    # and counts in `requeues` instead, which FTA_MAX_REQUEUES bounds.
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Runs that count against the dog itself.")
    requeues = models.PositiveSmallIntegerField(
        default=0, help_text="Times our own outages (a lost worker, database or storage, a stop) sent it back to the queue."
    )
    # The RQ job currently meant to run it; a new one for each (re)queue, so a stale job never runs it twice.
    job_id = models.CharField(max_length=64, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    result = models.FileField(upload_to=generation_result_path, blank=True)
    thumbnail = models.FileField(upload_to=generation_thumbnail_path, blank=True)
    # The dog as the result page shows it: a WebP a fraction of the PNG's size (the PNG stays for download).
    display = models.FileField(upload_to=generation_display_path, blank=True)
    control_image = models.FileField(upload_to=generation_control_path, blank=True)
    face_crop = models.FileField(upload_to=generation_face_path, blank=True)

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Seconds: queue_wait, model_load, inference, saving.
    timings = models.JSONField(default=dict, blank=True)
    worker_name = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True, help_text="Shown to the owner.")
    traceback = models.TextField(blank=True, help_text="Staff only.")

    review_state = models.CharField(max_length=16, choices=Review.choices, default=Review.PENDING, db_index=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    shared = models.BooleanField(default=False, help_text="The owner agrees to show it on the public showcase.")
    show_username = models.BooleanField(default=False)
    # A favourite: filterable in the gallery and never removed by any clean-up.
    starred = models.BooleanField(default=False)

    objects = GenerationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("generation")
        verbose_name_plural = _("generations")
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["review_state", "-created_at"]),
            # The queue in order: a place in it is a bounded range read (GenerationQuerySet.with_queue_ahead).
            models.Index(fields=["status", "enqueued_at"], name="generation_queue_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["queued", "running", "succeeded", "failed", "cancelled"]),
                name="generation_status_known",
            ),
            models.CheckConstraint(
                condition=Q(review_state__in=["pending", "approved", "rejected"]), name="generation_review_known"
            ),
            models.CheckConstraint(condition=Q(step__lte=models.F("steps")), name="generation_step_within_steps"),
        ]

    def __str__(self):
        return f"{self.breed} ({self.status})"

    @property
    def progress(self):
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        return round(self.step / self.steps, 4) if self.steps else 0.0

    @property
    def is_group(self):
        return bool(self.group_faces)

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES

    @property
    def can_retry(self):
        return self.status in (self.Status.FAILED, self.Status.CANCELLED)

    @classmethod
    def review_many(cls, queryset, state, reviewer, note=""):
        """Record one review decision on every generation of the queryset; returns how many changed."""
        return queryset.update(review_state=state, reviewed_by=reviewer, reviewed_at=timezone.now(), review_note=note)

    @property
    def breed_name(self):
        """The breed's name in the page's language."""
        return breed_name(self.breed)

    def places_ahead(self):
        """Queued generations ahead of this one, up to QUEUE_PLACES_COUNTED + 1; None unless queued.

        No query of its own when the row was fetched with_queue_ahead() (status.json, the generation page).
        """
        if self.status != self.Status.QUEUED or not self.enqueued_at:
            return None
        if hasattr(self, "queued_ahead"):
            return self.queued_ahead
        # filter().first(): a row deleted meanwhile has no place (None), not an error.
        return Generation.objects.with_queue_ahead().filter(pk=self.pk).values_list("queued_ahead", flat=True).first()


def new_link_token():
    return secrets.token_urlsafe(16)


class ShareLink(models.Model):
    """An unlisted public link to one dog (/d/<token>/); it dies with its generation."""

    token = models.CharField(max_length=32, unique=True, default=new_link_token, editable=False)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="share_links")
    created_at = models.DateTimeField(auto_now_add=True)
    disabled = models.BooleanField(default=False, help_text="Set by staff: the link answers 404.")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.token


class LimitedAction(models.Model):
    """One event that an hourly limit counts (an upload, a generation, a sign-up, a wrong password, a PNG read).

    Events outlive what they made, so deleting a photo does not give its upload back. Rows older
    than the window are pruned when the next one is recorded; a user's rows go with the user.
    """

    class Kind(models.TextChoices):
        UPLOAD = "upload"
        GENERATION = "generation"
        SIGNUP = "signup"
        PASSWORD_RESET = "password_reset"
        WRONG_PASSWORD = "wrong_password"
        PARAMS_PNG = "params_png"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=64, blank=True)  # as client_address() gave it, never parsed
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [
            models.Index(fields=["kind", "user", "created_at"]),
            models.Index(fields=["kind", "address", "created_at"]),
        ]


class PendingFileDeletion(models.Model):
    """A stored file whose row is gone but which storage refused to delete (it was down): the
    reconcile pass deletes it once storage answers, so nothing a user deleted survives."""

    name = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class PendingSignup(models.Model):
    """A sign-up waiting for its mail to be opened: no account exists until then.

    Every sign-up is a row of its own with the name and (hashed) password chosen in it, so a second
    sign-up for an address never reaches the first one's name or password. The account is made when
    someone opens the mailed link and types that sign-up's password; then every other sign-up waiting
    for the address is deleted. A row lives as long as a password-reset link (PASSWORD_RESET_TIMEOUT)
    and is deleted by the next sign-up after that (gallery.signups).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    username = models.CharField(max_length=150)
    email = models.EmailField()
    password = models.CharField(max_length=128)  # hashed, exactly as User.password
    wrong_passwords = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return self.username
