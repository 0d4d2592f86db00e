"""Issue tag counts are upserted once per digest batch (tags.indexing.add_counts): new pairs inserted, existing ones
added to, in one statement, on every database."""

import pytest

from digest.batch import digest_keys
from issues.models import Issue
from projects.models import Project
from tags.models import EventTag, IssueTag
from testing.utils import exception_event, store_event


def counts(issue) -> dict:
    return {str(t.value): t.count for t in IssueTag.objects.filter(issue=issue).select_related("value")}


@pytest.mark.django_db
def test_a_batch_adds_to_existing_counts_and_inserts_new_ones():
    project = Project.objects.create(name="tag-upsert")

    def batch(*customers):
        keys = [store_event(project, exception_event(tags={"customer": c})) for c in customers]
        assert digest_keys(project.pk, keys) == len(keys)

    batch("acme", "acme", "globex")  # one batch: the new issue's pairs inserted with counts 2 and 1
    issue = Issue.objects.get(project=project)
    first = counts(issue)
    assert first["customer:acme"] == 2 and first["customer:globex"] == 1 and first["level:error"] == 3

    batch("acme", "initech", "acme", "acme")  # existing pairs added to, a new one inserted, in the same statement
    second = counts(issue)
    assert second["customer:acme"] == 5 and second["customer:globex"] == 1 and second["customer:initech"] == 1
    assert second["level:error"] == 7
    assert IssueTag.objects.filter(issue=issue).count() == len(second)
    assert EventTag.objects.filter(issue=issue, value__key="customer").count() == 7


@pytest.mark.django_db
def test_a_batch_bigger_than_one_statement_of_rows():
    project = Project.objects.create(name="tag-upsert-many")
    keys = [store_event(project, exception_event(tags={"n": str(n)})) for n in range(350)]  # > 300 rows a statement
    assert digest_keys(project.pk, keys) == 350
    issue = Issue.objects.get(project=project)
    result = counts(issue)
    assert all(result[f"n:{n}"] == 1 for n in range(350)) and result["level:error"] == 350
