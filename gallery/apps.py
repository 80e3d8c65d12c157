from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = _("Gallery")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import deletion  # noqa: F401  (connects the file-removal signals)
