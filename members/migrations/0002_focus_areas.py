from django.db import migrations

PS = ["prevention", "prosecution", "protection", "partnerships"]
FORMS = [
    "sexual_exploitation",
    "labour_exploitation",
    "domestic_servitude",
    "child_trafficking",
    "forced_criminality",
    "organ_removal",
    "supply_chains",
]


def create_focus_areas(apps, schema_editor):
    FocusArea = apps.get_model("members", "FocusArea")
    for position, code in enumerate(PS + FORMS):
        FocusArea.objects.update_or_create(
            code=code, defaults={"group": "p" if code in PS else "form", "position": position}
        )


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(create_focus_areas, migrations.RunPython.noop)]
