from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = _("Gallery")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Connect the signals: files removed with their rows, accounts adopted by the development outbox.
        from . import deletion, dev_outbox  # noqa: F401
