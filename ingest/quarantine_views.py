"""The quarantine, for admins: raw events that digest could not store, with why, to download or to try again.

An event answered 200 is a promise; digest quarantines one only after it failed on its own several times (a bug
of ours, not the event's content: normalization makes any content storable). Nothing is deleted here: an admin
retries after an upgrade, or downloads the raw event to report the bug.
"""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from digest.job import digest_job
from ingest import store
from projects.models import Project


@staff_member_required
def quarantine_list(request):
    count, events = store.quarantined_events(limit=200)
    names = dict(Project.objects.filter(pk__in={e.project_id for e in events}).values_list("pk", "name"))
    for event in events:
        event.project_name = names.get(event.project_id, f"project {event.project_id} (deleted)")
        event.reason_head = event.reason.splitlines()[0] if event.reason else ""
    return render(request, "ingest/quarantine.html", {"count": count, "events": events, "nav": "quarantine"})


def _key_or_404(project_id: int, name: str) -> str:
    key = f"{project_id}/{name}"
    if not store.in_quarantine(key):
        raise Http404("no such event in quarantine")
    return key


@staff_member_required
def quarantine_download(request, project_id: int, name: str):
    key = _key_or_404(project_id, name)
    return FileResponse(
        store.open_quarantined(key),
        as_attachment=True,
        filename=f"{name}.event",
        content_type="application/octet-stream",
    )


@staff_member_required
@require_POST
def quarantine_retry(request, project_id: int, name: str):
    key = _key_or_404(project_id, name)
    store.release_from_quarantine(key)
    digest_job.schedule(key, force=True)
    if store.in_quarantine(key):
        messages.error(request, f"Event {name} failed again and is back in quarantine.")
    else:
        messages.success(request, f"Event {name} was handed to digest again.")
    return redirect("quarantine-list")
