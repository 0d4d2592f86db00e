from django.db import models


class Release(models.Model):
    """A version of a project's code, known from the events that carry it. Ordering: see releases.ordering."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=250)
    date_released = models.DateTimeField(help_text="When the first event of this release was received.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="unique_release_per_project")]
        ordering = ["project", "date_released"]

    def __str__(self) -> str:
        return self.version
