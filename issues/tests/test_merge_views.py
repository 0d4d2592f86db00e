"""The pages' merge, unmerge and reprocess requests: what they ask for, what they refuse, and that another
project's member gets a 404 (the jobs themselves: test_merge.py, test_reprocess.py, test_merge_browser.py)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from issues import merge, reprocess
from issues.merge import merge_issues
from issues.models import Grouping, Issue, TurningPoint
from projects.models import Project, ProjectMembership
from testing.utils import exception_event


@pytest.fixture
def asked(monkeypatch):
    """The jobs asked for, by name, with their arguments (instead of running them)."""
    calls = []
    for job in (merge.merge_issues_job, merge.unmerge_grouping_job, reprocess.reprocess_issue_job):
        monkeypatch.setattr(job, "after_commit", lambda *args, job=job: calls.append((job.name, args)))
    return calls


@pytest.fixture
def member(client, django_user_model, project):
    user = django_user_model.objects.create_user("max")
    ProjectMembership.objects.create(project=project, user=user)
    client.force_login(user)
    return user


def messages_of(response) -> list[str]:
    """The messages this response added (those of earlier ones were not shown yet, and come along: left out)."""
    return [str(m) for m in get_messages(response.wsgi_request)][-1:]


def issues(project, send_event, *types):
    for exc_type in types:
        send_event(project, exception_event(exc_type, "x"))
    return [Issue.objects.get(project=project, calculated_type=t) for t in dict.fromkeys(types)]


def test_bulk_merge_from_the_list(client, member, project, send_event, asked):
    big, small = issues(project, send_event, "KeyError", "KeyError", "ValueError")
    url = reverse("issues:project_bulk", args=[project.pk])
    response = client.post(url, {"action": "merge", "issue": [str(small.pk), str(big.pk)]})
    assert response.status_code == 302
    assert messages_of(response) == [
        f"Merging {small.short_id} into {big.short_id} (the one with most events) in the background."
    ]
    assert asked == [("issues.tasks.merge_issues", (project.pk, str(big.pk), [str(small.pk)], member.pk))]

    response = client.post(url, {"action": "merge", "issue": [str(big.pk)]})
    assert messages_of(response) == ["Not merged: Select two or more issues to merge."]
    assert len(asked) == 1


def test_bulk_merge_across_projects_is_refused(client, member, project, send_event, asked):
    other = Project.objects.create(name="Other", slug="other")
    ProjectMembership.objects.create(project=other, user=member)
    (mine,) = issues(project, send_event, "KeyError")
    (theirs,) = issues(other, send_event, "KeyError")
    response = client.post(reverse("issues:all_bulk"), {"action": "merge", "issue": [str(mine.pk), str(theirs.pk)]})
    assert messages_of(response) == ["Not merged: Only issues of one project can be merged."]
    assert asked == []


def test_another_projects_member_gets_404(client, django_user_model, project, send_event, asked):
    keep, split = issues(project, send_event, "KeyError", "ValueError")
    merge_issues(project.pk, keep.pk, [split.pk])
    grouping = Grouping.objects.get(grouping_key__contains="ValueError")
    other = Project.objects.create(name="Other", slug="other")
    stranger = django_user_model.objects.create_user("eve")
    ProjectMembership.objects.create(project=other, user=stranger)
    client.force_login(stranger)
    assert client.post(reverse("issue:reprocess", args=[keep.pk])).status_code == 404
    assert client.post(reverse("issue:unmerge", args=[keep.pk, grouping.pk])).status_code == 404
    assert client.get(reverse("issue:history", args=[keep.pk])).status_code == 404
    (theirs,) = issues(other, send_event, "OSError")
    response = client.post(
        reverse("issues:project_bulk", args=[project.pk]), {"action": "merge", "issue": [str(keep.pk), str(theirs.pk)]}
    )
    assert response.status_code == 404
    assert asked == []


def test_history_tab_unmerge_and_reprocess_requests(client, member, project, send_event, asked):
    keep, split, other = issues(project, send_event, "KeyError", "ValueError", "OSError")
    merge_issues(project.pk, keep.pk, [split.pk])
    grouping = Grouping.objects.get(grouping_key__contains="ValueError")

    page = client.get(reverse("issue:history", args=[keep.pk])).content.decode()
    assert page.count("data-grouping=") == 2 and "Unmerge" in page and "Reprocess events" in page
    assert f"{split.short_id}: ValueError: x (1 event)" in page

    # a grouping of another issue is refused; one of this issue's is asked for
    other_grouping = Grouping.objects.get(issue=other)
    response = client.post(reverse("issue:unmerge", args=[keep.pk, other_grouping.pk]))
    assert messages_of(response) == ["That grouping is not this issue's."]
    client.post(reverse("issue:unmerge", args=[keep.pk, grouping.pk]))
    assert asked == [("issues.tasks.unmerge_grouping", (project.pk, grouping.pk, member.pk))]
    response = client.post(reverse("issue:unmerge", args=[other.pk, other_grouping.pk]))
    assert messages_of(response) == ["This issue has one grouping only: there is nothing to split off."]

    # reprocess: asked once; a second request while the first waits is not asked again
    client.post(reverse("issue:reprocess", args=[keep.pk]))
    response = client.post(reverse("issue:reprocess", args=[keep.pk]))
    assert "requested already" in messages_of(response)[0]
    assert [name for name, _ in asked].count("issues.tasks.reprocess_issue") == 1
    assert keep.turning_points.filter(kind=TurningPoint.Kind.REPROCESS_REQUESTED).count() == 1
    page = client.get(reverse("issue:history", args=[keep.pk])).content.decode()
    assert "Reprocessing requested: the result appears" in page and "data-reprocess disabled" in page
    assert client.get(reverse("issue:reprocess", args=[keep.pk])).status_code == 405
