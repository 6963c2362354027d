"""Accounts made before names were kept whole: "Nam" + "Trần Văn" (given name in
first_name, family name in last_name) become "Trần Văn Nam" in first_name
(marketplace.core.names). The names are copied here as the rule was on this day."""

from django.conf import settings
from django.db import migrations


def join_names(apps, schema_editor):
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    for user in User.objects.exclude(last_name="").only("pk", "first_name", "last_name"):
        full = " ".join(p for p in (user.last_name.strip(), user.first_name.strip()) if p)
        User.objects.filter(pk=user.pk).update(first_name=full[:150], last_name="")


class Migration(migrations.Migration):
    dependencies = [
        ("farmers", "0003_member_import"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [migrations.RunPython(join_names, migrations.RunPython.noop)]
