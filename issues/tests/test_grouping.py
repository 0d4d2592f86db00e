"""Grouping through the real endpoint: which events end up in the same issue."""

import pytest

from digest.grouping import grouping_key, hash_key, title_parts
from issues.models import Grouping, Issue
from projects.models import Project
from testing.utils import exception_event


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


# --- frames without a function name, synthetic exceptions (and the first keys they replace) -----------------------


def module_frame(context_line: str | None, lineno: int = 7, function=None) -> dict:
    frame = {"filename": "/srv/app/jobs.js", "abs_path": "/srv/app/jobs.js", "lineno": lineno, "in_app": True}
    if function is not None:
        frame["function"] = function
    if context_line is not None:
        frame["context_line"] = context_line
    return frame


@pytest.mark.parametrize("function", [None, "", "?", "<anonymous>", "<module>"])
def test_frames_without_a_function_are_told_apart_by_their_source_line(function):
    first = exception_event("TypeError", "x", frames=[module_frame("  run(queue);", 7, function)])
    moved = exception_event("TypeError", "x", frames=[module_frame("run(queue);   ", 40, function)])
    other = exception_event("TypeError", "x", frames=[module_frame("flush(queue);", 7, function)])
    assert grouping_key(first) == grouping_key(moved)  # the line moved, its code did not: one issue
    assert grouping_key(first) != grouping_key(other)
    assert grouping_key(first, legacy=True) == grouping_key(other, legacy=True)  # the first code merged them


def test_without_a_source_line_the_line_number_tells_them_apart():
    seven = exception_event("TypeError", "x", frames=[module_frame(None, 7)])
    eight = exception_event("TypeError", "x", frames=[module_frame(None, 8)])
    assert grouping_key(seven) != grouping_key(eight)
    named = [module_frame(None, 7, "handle"), module_frame(None, 8, "handle")]
    assert grouping_key(exception_event(frames=named[:1])) == grouping_key(exception_event(frames=named[1:]))


def synthetic_message(message: str, frames=None) -> dict:
    """What @sentry/node sends for captureMessage with attachStacktrace: the message and a made-up exception."""
    frames = frames or [module_frame("Sentry.captureMessage(text);", 12)]
    return {
        "platform": "node",
        "level": "info",
        "message": message,
        "exception": {
            "values": [{"value": message, "stacktrace": {"frames": frames}, "mechanism": {"synthetic": True}}]
        },
    }


def test_synthetic_exceptions_group_by_stack_and_message_and_are_titled_by_it():
    slow, skipped = synthetic_message("payment provider slow"), synthetic_message("cache warm-up skipped")
    assert grouping_key(slow) != grouping_key(skipped)
    assert grouping_key(slow) == grouping_key(synthetic_message("payment provider slow"))
    elsewhere = synthetic_message("payment provider slow", frames=[module_frame("log(text);", 30, "report")])
    assert grouping_key(slow) != grouping_key(elsewhere)
    assert title_parts(slow) == ("", "payment provider slow")
    # a thrown string: the SDK calls it an Error; the title is the string
    thrown = {"exception": {"values": [{"type": "Error", "value": "boom", "mechanism": {"synthetic": True}}]}}
    assert title_parts(thrown) == ("", "boom")
    assert grouping_key(slow, legacy=True) == grouping_key(skipped, legacy=True)


def test_synthetic_messages_split_from_now_on_but_an_old_merged_issue_keeps_its_events(project, send_event):
    """The first code put both messages into one issue; that issue keeps what it had and what its key matches,
    rather than being split behind its users' backs."""
    assert send_event(project, synthetic_message("payment provider slow")).status_code == 200
    merged = Issue.objects.get()
    legacy = grouping_key(synthetic_message("payment provider slow"), legacy=True)
    Grouping.objects.filter(issue=merged).update(grouping_key=legacy, grouping_key_hash=hash_key(legacy))
    send_event(project, synthetic_message("cache warm-up skipped"))
    assert Issue.objects.count() == 1 and Issue.objects.get().event_count == 2

    other = Project.objects.create(name="Fresh")
    for message in ("payment provider slow", "cache warm-up skipped", "payment provider slow"):
        send_event(other, synthetic_message(message))
    titles = sorted((i.title(), i.event_count) for i in Issue.objects.filter(project=other))
    assert titles == [("cache warm-up skipped", 1), ("payment provider slow", 2)]
