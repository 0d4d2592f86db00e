"""testing.utils.wait_until, the suite's one way of waiting for another process or thread."""

import subprocess
import sys
import threading

import pytest

from testing.utils import wait_until


def test_returns_the_conditions_value_once_it_holds():
    calls = []

    def third_time():
        calls.append(1)
        return "done" if len(calls) >= 3 else None

    assert wait_until(third_time, 30, interval=0.01) == "done"
    assert len(calls) == 3


def test_sees_what_another_thread_does():
    happened = threading.Event()
    threading.Timer(0.05, happened.set).start()
    assert wait_until(happened.is_set, 30, interval=0.01) is True


def test_a_timeout_names_what_was_awaited_and_adds_the_details():
    with pytest.raises(AssertionError, match="waiting for the moon") as failure:
        wait_until(lambda: False, 0.05, interval=0.01, message="the moon", details=lambda: "the log says no")
    assert "the log says no" in str(failure.value)


def test_stops_waiting_when_the_process_has_exited():
    """A generous timeout, and yet the wait ends with the process: the failure says it exited, not that time ran
    out."""
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])
    with pytest.raises(AssertionError, match="the process exited with code 7") as failure:
        wait_until(lambda: False, 600, message="an answer", process=process, details="its output")
    assert "timed out" not in str(failure.value) and "its output" in str(failure.value)


def test_a_condition_met_as_the_process_exits_still_counts():
    """The process did its work and exited between two looks: the second look, after seeing the exit, wins."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait(timeout=30)
    looks = []

    def second_look():
        looks.append(1)
        return len(looks) == 2

    assert wait_until(second_look, 600, process=process) is True
