"""Releases, the commits that went into them and their deploys.

A Release row is one project's version. It becomes known either through the first event that carries it (digest) or
through the API (`sentry-cli releases new`, a source map upload with `--release`), whichever comes first;
`date_released` is that moment, the release order of non-semver projects (releases.ordering). `date_finalized` is
what Sentry calls dateReleased: when the release was declared done (`sentry-cli releases finalize`).

The API speaks of a release per organization and version; here each project has its own row, so commits and deploys
recorded for a version are recorded on the row of every project the version has (releases.actions).
"""

from django.db import models
from django.utils import timezone

from releases.semver import semver_sort_key


class ReleaseQuerySet(models.QuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for release in objs:
            release.sort_key = semver_sort_key(release.version)
        return super().bulk_create(objs, *args, **kwargs)


class Release(models.Model):
    """A version of a project's code. Ordering: see releases.ordering."""

    project = models.ForeignKey("projects.Project", on_delete=models.CASCADE, related_name="releases")
    version = models.CharField(max_length=250)
    date_released = models.DateTimeField(
        help_text="When the release became known: its first event, or its creation through the API."
    )
    date_created = models.DateTimeField(default=timezone.now)
    date_finalized = models.DateTimeField(
        null=True, blank=True, help_text="When it was declared released (sentry-cli releases finalize)."
    )
    ref = models.CharField(max_length=250, blank=True, default="", help_text="a VCS ref, e.g. a tag or commit")
    url = models.CharField(max_length=1024, blank=True, default="")
    # the version's place in semver order as text of digits, "" when it is not a semantic version; derived from
    # `version` whenever the row is saved (releases.semver, releases.ordering)
    sort_key = models.CharField(max_length=600, blank=True, default="", editable=False)

    objects = ReleaseQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="unique_release_per_project")]
        ordering = ["project", "date_released"]
        indexes = [
            # the latest release, and "is any release not semver", without reading the project's other releases
            models.Index(fields=["project", "sort_key", "date_released", "id"], name="release_semver_order"),
            models.Index(fields=["project", "date_released", "id"], name="release_first_seen_order"),
        ]

    def __str__(self) -> str:
        return self.version

    def save(self, *args, **kwargs):
        self.sort_key = semver_sort_key(self.version)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "version" in update_fields:
            kwargs["update_fields"] = {*update_fields, "sort_key"}
        super().save(*args, **kwargs)


class Commit(models.Model):
    """A commit that went into a release (`sentry-cli releases set-commits`)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="commits")
    sha = models.CharField(max_length=64)
    repository = models.CharField(max_length=200)
    message = models.TextField(blank=True, default="")
    author_name = models.CharField(max_length=250, blank=True, default="")
    author_email = models.CharField(max_length=254, blank=True, default="")
    timestamp = models.DateTimeField(null=True, blank=True)
    # the order the client listed them in, newest first as git log writes them
    position = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["release", "repository", "sha"], name="unique_commit_per_release")
        ]
        ordering = ["release", "position"]

    def __str__(self) -> str:
        return f"{self.repository}@{self.sha[:12]}"


def is_repository_name(name: str) -> bool:
    """A repository as clients derive it from a git remote's URL (`acme/fe-app`, `group/sub/app`), as opposed to
    a remote's own name: sentry-cli 3.8's `set-commits --local` (and `--auto` when it falls back to it) names the
    repository "origin", which matches no checkout."""
    return "/" in name.strip("/")


class Repository(models.Model):
    """A repository named by `set-commits` (its commits' `repository`, or a ref's), in the projects whose releases
    named it. /api/0/organizations/<org>/repos/ lists them (sentry-cli and the bundler plugins match a checkout's
    remote against these names); a name that is a git remote's (is_repository_name) is recorded but not listed."""

    name = models.CharField(max_length=200, unique=True)
    projects = models.ManyToManyField("projects.Project", related_name="repositories")
    date_created = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Deploy(models.Model):
    """A release deployed to an environment (`sentry-cli deploys new -e production`)."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="deploys")
    environment = models.CharField(max_length=64)
    name = models.CharField(max_length=250, blank=True, default="")
    url = models.CharField(max_length=1024, blank=True, default="")
    date_started = models.DateTimeField(null=True, blank=True)
    date_finished = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["release", "-date_finished", "-id"]

    def __str__(self) -> str:
        return f"{self.release} to {self.environment}"
