from django.apps import AppConfig


class NumbersConfig(AppConfig):
    # The import name differs from the folder so that `numbers` stays the standard library's module;
    # the label keeps the name the migrations, permissions and tables were made under.
    name = "numbers_app"
    label = "numbers"
    verbose_name = "Phone numbers"
