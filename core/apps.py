from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The bottom layer: helpers with no models, and the `cn` template filters."""

    name = "core"
    verbose_name = "公共组件"
