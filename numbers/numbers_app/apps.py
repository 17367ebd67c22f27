from django.apps import AppConfig


class NumbersConfig(AppConfig):
    # The import name differs from the folder so that `numbers` stays the standard library's module;
    # the label keeps the name the migrations, permissions and tables were made under.
    name = "numbers_app"
    label = "numbers"
    verbose_name = "Phone numbers"

    def ready(self) -> None:
        from numbers_app import checks  # noqa: F401  (registers the deployment checks)
        from numbers_app.audit import lockout  # noqa: F401  (connects the axes lockout signal to the audit log)
        from numbers_app.people import directory  # noqa: F401  (keeps each sign-in's session key)
