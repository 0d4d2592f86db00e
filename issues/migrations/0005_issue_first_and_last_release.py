from django.db import migrations, models


def from_events_at(apps, schema_editor):
    """The list's first entry is the first release; its last the release last new to the issue, which is the
    newest one as long as releases came in order (the best this list can tell)."""
    Issue = apps.get_model("issues", "Issue")
    changed = []
    for issue in Issue.objects.exclude(events_at=[]).only("pk", "events_at").iterator(chunk_size=2000):
        if not issue.events_at:
            continue
        issue.first_release = str(issue.events_at[0])[:250]
        issue.last_release = str(issue.events_at[-1])[:250]
        changed.append(issue)
        if len(changed) >= 2000:
            Issue.objects.bulk_update(changed, ["first_release", "last_release"])
            changed = []
    Issue.objects.bulk_update(changed, ["first_release", "last_release"])


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0004_issue_is_deleting"),
        ("projects", "0008_invitation_anyone_with_link"),
    ]

    operations = [
        migrations.AddField(
            model_name="issue",
            name="first_release",
            field=models.CharField(blank=True, default="", max_length=250),
        ),
        migrations.AddField(
            model_name="issue",
            name="last_release",
            field=models.CharField(blank=True, default="", max_length=250),
        ),
        migrations.RunPython(from_events_at, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="issue",
            name="events_at",
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["project", "first_release"], name="issue_first_release"),
        ),
    ]
