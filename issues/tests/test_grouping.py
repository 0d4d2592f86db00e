"""Grouping through the real endpoint: which events end up in the same issue."""

from bugsink.testutils import exception_event
from issues.models import Issue


def frames(*call_sites):
    return [
        {
            "filename": f"{module.replace('.', '/')}.py",
            "module": module,
            "function": function,
            "lineno": lineno,
            "in_app": True,
        }
        for module, function, lineno in call_sites
    ]


def test_the_same_error_a_hundred_times_is_one_issue(project, send_event):
    for _ in range(100):
        assert send_event(project, exception_event()).status_code == 200
    issue = Issue.objects.get()
    assert issue.event_count == 100
    assert issue.events.count() == 100


def test_two_exception_types_are_two_issues(project, send_event):
    send_event(project, exception_event("ValueError", "x"))
    send_event(project, exception_event("KeyError", "x"))
    assert sorted(Issue.objects.values_list("calculated_type", flat=True)) == ["KeyError", "ValueError"]


def test_the_same_type_from_two_call_sites_is_two_issues(project, send_event):
    site_a = frames(("app.main", "run", 5), ("app.orders", "create_order", 40))
    site_b = frames(("app.main", "run", 5), ("app.invoices", "send_invoice", 12))
    send_event(project, exception_event("ValueError", "bad", frames=site_a))
    send_event(project, exception_event("ValueError", "bad", frames=site_b))
    assert Issue.objects.count() == 2


def test_line_numbers_and_variable_message_parts_do_not_split(project, send_event):
    for n in range(5):
        stack = frames(("app.main", "run", 5 + n), ("app.orders", "create_order", 40 + 3 * n))
        message = f"order {1000 + n} for user 0x{n:08x} failed (id {n}f0c9a0e-1b2c-4d5e-8f90-123456789abc)"
        send_event(project, exception_event("ValueError", message, frames=stack))
    assert Issue.objects.get().event_count == 5


def test_only_in_app_frames_count_when_there_are_any(project, send_event):
    library_1 = {"module": "requests.api", "function": "get", "in_app": False}
    library_2 = {"module": "httpx.api", "function": "get", "in_app": False}
    mine = {"module": "app.fetch", "function": "fetch", "in_app": True}
    send_event(project, exception_event("IOError", "down", frames=[mine, library_1]))
    send_event(project, exception_event("IOError", "down", frames=[mine, library_2]))
    assert Issue.objects.count() == 1


def test_all_frames_count_when_none_is_in_app(project, send_event):
    # Ruby and raven mark every frame in_app: false
    site_a = [{"module": "lib.a", "function": "f", "in_app": False}]
    site_b = [{"module": "lib.b", "function": "g", "in_app": False}]
    send_event(project, exception_event("RuntimeError", "x", frames=site_a))
    send_event(project, exception_event("RuntimeError", "x", frames=site_b))
    assert Issue.objects.count() == 2


def test_exceptions_without_frames_group_on_type_and_masked_value(project, send_event):
    no_frames = {
        "platform": "python",
        "exception": {"values": [{"type": "Timeout", "value": "after 30 s on 10.0.0.7"}]},
    }
    other = {"platform": "python", "exception": {"values": [{"type": "Timeout", "value": "after 31 s on 10.0.0.9"}]}}
    different = {"platform": "python", "exception": {"values": [{"type": "Timeout", "value": "no route to host"}]}}
    for event in (no_frames, other, different):
        send_event(project, event)
    assert sorted(Issue.objects.values_list("event_count", flat=True)) == [1, 2]


def test_log_messages_group_on_the_unformatted_message(project, send_event):
    for user in ("alice", "bob", "carol"):
        send_event(
            project,
            {"level": "error", "logentry": {"message": "user %s failed", "params": [user]}},
        )
    issue = Issue.objects.get()
    assert issue.event_count == 3
    assert issue.title() == "user alice failed"


def test_fingerprint_with_default_splits_by_the_extra_part(project, send_event):
    send_event(project, exception_event(fingerprint=["{{ default }}", "x"]))
    send_event(project, exception_event(fingerprint=["{{ default }}", "y"]))
    send_event(project, exception_event(fingerprint=["{{ default }}", "x"]))
    assert sorted(Issue.objects.values_list("event_count", flat=True)) == [1, 2]


def test_a_fixed_fingerprint_joins_different_errors(project, send_event):
    send_event(project, exception_event("ValueError", "a", fingerprint=["database-down"]))
    send_event(project, exception_event("KeyError", "b", fingerprint=["database-down"]))
    issue = Issue.objects.get()
    assert issue.event_count == 2
    assert issue.title() == "ValueError: a"


def test_int_fingerprint_parts_are_stringified(project, send_event):
    send_event(project, exception_event(fingerprint=[1, "a"]))
    send_event(project, exception_event(fingerprint=["1", "a"]))
    assert Issue.objects.get().event_count == 2


def test_title_comes_from_the_raised_exception_the_last_in_the_chain(project, send_event):
    event = {
        "platform": "python",
        "exception": {
            "values": [
                {"type": "KeyError", "value": "'id'", "stacktrace": {"frames": frames(("app.a", "load", 3))}},
                {
                    "type": "LookupFailed",
                    "value": "could not load\nsecond line",
                    "stacktrace": {"frames": frames(("app.b", "handler", 9))},
                },
            ]
        },
    }
    send_event(project, event)
    issue = Issue.objects.get()
    assert issue.title() == "LookupFailed: could not load"
    assert issue.culprit == "app.b in handler"


def test_issues_are_numbered_per_project(project, send_event, django_user_model):
    from projects.models import Project

    other = Project.objects.create(name="Other")
    send_event(project, exception_event("A"))
    send_event(project, exception_event("B"))
    send_event(other, exception_event("A"))
    assert sorted(i.short_id for i in Issue.objects.select_related("project")) == ["MYAPP-1", "MYAPP-2", "OTHER-1"]
