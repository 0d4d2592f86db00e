"""bin/procfile-run, the supervisor under `make serve`, on small Procfiles of shell commands."""

import signal
import subprocess
import sys
import time
from pathlib import Path

RUNNER = Path(__file__).resolve().parents[2] / "bin" / "procfile-run"


def start(tmp_path, procfile: str, *args) -> subprocess.Popen:
    (tmp_path / "Procfile").write_text(procfile)
    return subprocess.Popen(
        [sys.executable, str(RUNNER), "-f", str(tmp_path / "Procfile"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_sigterm_stops_every_process_and_exits_0(tmp_path):
    runner = start(tmp_path, "# a comment\none: echo one $PORT; exec sleep 30\ntwo: exec sleep 30\n", "-p", "8123")
    time.sleep(1)
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 0, output
    assert "one.1 | one 8123" in output
    assert "one.1 stopped (rc=-15)" in output and "two.1 stopped (rc=-15)" in output


def test_a_process_that_traps_sigterm_finishes_cleanly(tmp_path):
    runner = start(tmp_path, "clean: trap 'exit 0' TERM; while true; do sleep 0.1; done\n")
    time.sleep(1)
    runner.send_signal(signal.SIGINT)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 0 and "clean.1 stopped (rc=0)" in output, output


def test_a_process_ending_on_its_own_stops_the_others_and_fails(tmp_path):
    runner = start(tmp_path, "short: exit 3\nlong: exec sleep 30\n")
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 1, output
    assert "short.1 ended on its own" in output and "long.1 stopped" in output


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    runner = start(tmp_path, "stubborn: trap '' TERM; while true; do sleep 0.1; done\n", "--grace", "1")
    time.sleep(1)
    runner.send_signal(signal.SIGTERM)
    output, _ = runner.communicate(timeout=30)
    assert runner.returncode == 1 and "SIGKILL" in output, output
