from django.apps import AppConfig


class OmniConfig(AppConfig):
    """The project as an app: shared templates, the health check, demo data and commands."""

    name = "omni"
    verbose_name = "Omni"
