from django.apps import AppConfig


class FacetoanimalsConfig(AppConfig):
    """The project itself, installed for one thing: the system checks of its settings."""

    name = "facetoanimals"
    verbose_name = "Facetoanimals"

    def ready(self):
        from . import checks  # noqa: F401  (registers them)
