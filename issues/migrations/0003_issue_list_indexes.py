# Indexes for the issue list: one per sort order, (project, sort key, id), so that keyset pagination seeks instead
# of sorting a project's issues.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0002_issue_period_counts"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["project", "last_seen", "id"], name="issue_list_last_seen"),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["project", "first_seen", "id"], name="issue_list_first_seen"),
        ),
        migrations.AddIndex(
            model_name="issue",
            index=models.Index(fields=["project", "event_count", "id"], name="issue_list_event_count"),
        ),
    ]
