from events.models import Event
from issues.models import Issue
from testing.utils import exception_event


def test_envelope_event_lands_in_an_issue(project, send_event):
    response = send_event(project, exception_event())
    assert response.status_code == 200, response.content
    assert len(response.json()["id"]) == 32
    issue = Issue.objects.get()
    assert issue.title() == "ValueError: bad value"
    assert issue.short_id == "MYAPP-1"
    assert issue.event_count == 1
    assert Event.objects.get().issue == issue
