# A monitor is a row per slug and environment (monitors.models). The new unique constraint is made before the old one
# is dropped: on MariaDB the project's foreign key needs an index that starts with project_id at every moment.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitors", "0002_monitor_is_muted"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="monitor",
            options={"ordering": ["slug", "environment"]},
        ),
        migrations.AddField(
            model_name="monitor",
            name="environment",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddConstraint(
            model_name="monitor",
            constraint=models.UniqueConstraint(
                fields=("project", "slug", "environment"), name="unique_monitor_slug_environment_per_project"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="monitor",
            name="unique_monitor_slug_per_project",
        ),
    ]
