"""bin/procfile-run, the supervisor under `make serve`, on small Procfiles of shell commands; and the project's
Procfile, which it runs."""

import signal
import subprocess
import sys
import threading
from pathlib import Path

from bugsink.testutils import wait_until

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "bin" / "procfile-run"


class Supervisor:
    """bin/procfile-run on a Procfile of our own, its output collected as it comes, so that a test can wait for a
    line (a process saying it is ready) instead of sleeping."""

    def __init__(self, tmp_path, procfile: str, *args):
        (tmp_path / "Procfile").write_text(procfile)
        self.process = subprocess.Popen(
            [sys.executable, str(RUNNER), "-f", str(tmp_path / "Procfile"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str) -> None:
        wait_until(lambda: text in self.output(), 30, message=repr(text), process=self.process, details=self.output)

    def finish(self) -> str:
        """Its whole output once it has exited (bounded)."""
        self.process.wait(timeout=30)
        self.reader.join(timeout=30)
        return self.output()


def test_sigterm_stops_every_process_and_exits_0(tmp_path):
    runner = Supervisor(tmp_path, "# a comment\none: echo one $PORT; exec sleep 30\ntwo: exec sleep 30\n", "-p", "8123")
    runner.wait_for("two.1 started")
    runner.process.send_signal(signal.SIGTERM)
    output = runner.finish()
    assert runner.process.returncode == 0, output
    assert "one.1 | one 8123" in output
    assert "one.1 stopped (rc=-15)" in output and "two.1 stopped (rc=-15)" in output


def test_a_process_that_traps_sigterm_finishes_cleanly(tmp_path):
    runner = Supervisor(tmp_path, "clean: trap 'exit 0' TERM; echo trap set; while true; do sleep 0.1; done\n")
    runner.wait_for("clean.1 | trap set")
    runner.process.send_signal(signal.SIGINT)
    output = runner.finish()
    assert runner.process.returncode == 0 and "clean.1 stopped (rc=0)" in output, output


def test_a_process_ending_on_its_own_stops_the_others_and_fails(tmp_path):
    runner = Supervisor(tmp_path, "short: exit 3\nlong: exec sleep 30\n")
    output = runner.finish()
    assert runner.process.returncode == 1, output
    assert "short.1 ended on its own" in output and "long.1 stopped" in output


def test_a_process_ignoring_sigterm_is_killed_after_the_grace_period(tmp_path):
    runner = Supervisor(
        tmp_path, "stubborn: trap '' TERM; echo trap set; while true; do sleep 0.1; done\n", "--grace", "1"
    )
    runner.wait_for("stubborn.1 | trap set")
    runner.process.send_signal(signal.SIGTERM)
    output = runner.finish()
    assert runner.process.returncode == 1 and "SIGKILL" in output, output


def test_the_procfile_runs_the_programs_on_path():
    """No virtualenv path in the project's Procfile: `make serve` puts its .venv/bin first on PATH, and a clone
    whose virtualenv lives elsewhere puts that one's there."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, command = line.partition(":")
        program = command.split()[1] if command.split()[0] == "exec" else command.split()[0]
        assert program in ("python", "celery"), f"{name}: {program}"
