"""The processes page of the admin: what the supervisor of `make serve` says about the web server and the workers
(bugsink.supervision), with each one's last output when it last exited, for an admin wondering why events wait."""

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render

from bugsink import supervision


@staff_member_required
def processes(request):
    status = supervision.read_status()
    problems = status.problems() if status is not None else []
    return render(request, "bugsink/processes.html", {"status": status, "problems": problems})
