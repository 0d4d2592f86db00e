from django.db import migrations, models

from releases.semver import semver_sort_key


def compute_sort_keys(apps, schema_editor):
    Release = apps.get_model("releases", "Release")
    changed = []
    for release in Release.objects.only("pk", "version").iterator(chunk_size=2000):
        release.sort_key = semver_sort_key(release.version)
        if release.sort_key:
            changed.append(release)
        if len(changed) >= 2000:
            Release.objects.bulk_update(changed, ["sort_key"])
            changed = []
    Release.objects.bulk_update(changed, ["sort_key"])


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0008_invitation_anyone_with_link"),
        ("releases", "0002_release_api_fields_commits_deploys"),
    ]

    operations = [
        migrations.AddField(
            model_name="release",
            name="sort_key",
            field=models.CharField(blank=True, default="", editable=False, max_length=600),
        ),
        migrations.RunPython(compute_sort_keys, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="release",
            index=models.Index(fields=["project", "sort_key", "date_released", "id"], name="release_semver_order"),
        ),
        migrations.AddIndex(
            model_name="release",
            index=models.Index(fields=["project", "date_released", "id"], name="release_first_seen_order"),
        ),
    ]
