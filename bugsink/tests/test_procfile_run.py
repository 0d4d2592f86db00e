"""bin/procfile-run, the supervisor under `make serve`, on small Procfiles of shell commands: restarts with backoff,
crash loops, the status file, stopping; and the project's Procfile, which it runs."""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from testing.utils import kill_session, wait_until

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "bin" / "procfile-run"


class Supervisor:
    """bin/procfile-run on a Procfile of our own, its output collected as it comes, so that a test can wait for a
    line (a process saying it is ready) instead of sleeping."""

    def __init__(self, tmp_path, procfile: str, *args):
        (tmp_path / "Procfile").write_text(procfile)
        self.status_path = tmp_path / "status.json"
        self.process = subprocess.Popen(
            [sys.executable, str(RUNNER), "-f", str(tmp_path / "Procfile"), "--status-file", str(self.status_path)]
            + list(args),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its processes, in groups of their own, are still of its session (cleanup)
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

    def status(self) -> dict:
        """The status file as the supervisor last wrote it (atomically: never half a file)."""
        return json.loads(self.status_path.read_text())

    def wait_for_status(self, condition, message: str) -> dict:
        def check():
            status = self.status() if self.status_path.exists() else None
            return status if status and condition(status["processes"]) else None

        return wait_until(check, 30, message=message, process=self.process, details=self.output)

    def finish(self) -> str:
        """Its whole output once it has exited (bounded; what is left of it is killed after the bound)."""
        try:
            self.process.wait(timeout=30)
        finally:
            kill_session(self.process.pid)
        self.reader.join(timeout=30)
        return self.output()

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        return self.finish()


def alive(pid: int) -> bool:
    """Is `pid` a live process (not gone, not a zombie waiting for its parent)?"""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


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


def test_a_killed_process_is_restarted_with_backoff_while_the_others_keep_running(tmp_path):
    runner = Supervisor(tmp_path, "web: exec sleep 60\nworker: exec sleep 60\n", "--backoff", "0.2", "--grace", "5")
    try:
        first = runner.wait_for_status(lambda p: p["worker.1"]["pid"] and p["web.1"]["pid"], "both to run")
        web_pid, worker_pid = first["processes"]["web.1"]["pid"], first["processes"]["worker.1"]["pid"]
        os.kill(worker_pid, signal.SIGKILL)
        second = runner.wait_for_status(
            lambda p: p["worker.1"]["pid"] not in (None, worker_pid), "the worker to run again"
        )["processes"]
        assert second["worker.1"]["state"] == "running" and second["worker.1"]["restarts"] == 1
        assert second["worker.1"]["last_exit_code"] == -signal.SIGKILL
        assert second["web.1"]["pid"] == web_pid and alive(web_pid), "the web process was not left alone"
        # killed again before it stayed up --stable-after (30 s): the backoff doubles
        os.kill(second["worker.1"]["pid"], signal.SIGKILL)
        third = runner.wait_for_status(lambda p: p["worker.1"]["restarts"] == 2 and p["worker.1"]["pid"], "again")
        assert third["processes"]["web.1"]["pid"] == web_pid
    finally:
        output = runner.stop()
    assert "worker.1 exited (rc=-9) after" in output
    assert "worker.1 will be restarted in 0.2 s" in output and "worker.1 will be restarted in 0.4 s" in output
    assert "web.1 exited" not in output and "web.1 stopped (rc=-15)" in output
    assert runner.process.returncode == 0, output


def test_the_web_process_is_restarted_too(tmp_path):
    runner = Supervisor(tmp_path, "web: echo serving $PORT; exec sleep 60\n", "-p", "8124", "--backoff", "0.1")
    try:
        pid = runner.wait_for_status(lambda p: p["web.1"]["pid"], "the web process")["processes"]["web.1"]["pid"]
        os.kill(pid, signal.SIGTERM)  # ended by someone else: not a stop request of the supervisor
        runner.wait_for_status(lambda p: p["web.1"]["pid"] not in (None, pid), "the web process to be restarted")
    finally:
        output = runner.stop()
    assert output.count("web.1 | serving 8124") == 2, output
    assert runner.process.returncode == 0, output


def test_a_crash_loop_is_reported_in_the_log_and_the_status_file(tmp_path):
    runner = Supervisor(
        tmp_path,
        "web: exec sleep 60\nbroken: echo cannot reach the database; exit 3\n",
        *("--backoff", "0.05", "--backoff-max", "0.2", "--crash-loop-after", "3"),
    )
    try:
        status = runner.wait_for_status(lambda p: p["broken.1"]["crash_looping"], "the crash loop")
        broken, web = status["processes"]["broken.1"], status["processes"]["web.1"]
        assert broken["state"] == "crash-looping" and broken["last_exit_code"] == 3 and broken["restarts"] >= 3
        assert broken["last_output"] == ["cannot reach the database"]
        assert web["state"] == "running" and web["restarts"] == 0 and alive(web["pid"])
        # it keeps being restarted (at the longest backoff), and the supervisor keeps running
        runner.wait_for_status(lambda p: p["broken.1"]["restarts"] >= broken["restarts"] + 2, "more restarts")
        assert runner.process.poll() is None
    finally:
        output = runner.stop()
    assert "CRASH LOOP: broken.1 exited 3 times in a row" in output
    report = output.split("CRASH LOOP: broken.1")[1].splitlines()[1]
    assert report.endswith("|     cannot reach the database") and " system " in report  # its last output
    assert "will be restarted in 0.2 s" in output  # the backoff reached its bound
    assert "web.1 stopped (rc=-15)" in output and runner.process.returncode == 0, output


def test_a_process_that_stays_up_leaves_its_crash_loop(tmp_path):
    # fails three times, then runs
    procfile = 'flaky: n=$(cat tries 2>/dev/null || echo 0); echo $((n+1)) > tries; [ "$n" -ge 3 ] || exit 1; '
    procfile += "echo steady; exec sleep 60\n"
    runner = Supervisor(tmp_path, procfile, *("--backoff", "0.05", "--crash-loop-after", "2", "--stable-after", "0.5"))
    try:
        runner.wait_for("CRASH LOOP: flaky.1")
        runner.wait_for("flaky.1 has stayed up 0.5 s: no longer crash-looping")
        # the log line comes before the status file is rewritten: wait for the file, do not read it once
        flaky = runner.wait_for_status(
            lambda p: p["flaky.1"]["state"] == "running" and not p["flaky.1"]["crash_looping"], "steady"
        )["processes"]["flaky.1"]
        assert flaky["exits_in_a_row"] == 0
    finally:
        output = runner.stop()
    assert runner.process.returncode == 0, output


def test_no_restart_once_stopping(tmp_path):
    runner = Supervisor(tmp_path, "quick: echo ran; exit 1\n", "--backoff", "60")
    runner.wait_for("quick.1 will be restarted in 60 s")
    runner.wait_for_status(lambda p: p["quick.1"]["state"] == "restarting", "the restart to be pending")
    output = runner.stop()
    assert output.count("quick.1 | ran") == 1, output
    assert json.loads(runner.status_path.read_text())["processes"]["quick.1"]["state"] == "stopped"
    assert runner.process.returncode == 0, output


def test_what_a_dead_process_forked_is_ended_before_its_restart(tmp_path):
    """A forked child (a web server's worker) would keep the port the restarted process needs."""
    runner = Supervisor(tmp_path, "forking: sleep 60 & echo child $!; exec sleep 60\n", "--backoff", "0.5")
    try:
        runner.wait_for("forking.1 | child ")
        child = int(runner.output().split("forking.1 | child ")[1].split()[0])
        leader = runner.status()["processes"]["forking.1"]["pid"]
        assert alive(child)
        os.kill(leader, signal.SIGKILL)
        wait_until(lambda: not alive(child), 30, message="the orphaned child to be ended", details=runner.output)
        runner.wait_for_status(lambda p: p["forking.1"]["pid"] not in (None, leader), "the restart")
    finally:
        output = runner.stop()
    assert "forking.1 left processes behind: SIGTERM to its group" in output


def test_the_children_find_the_status_file_and_a_temporary_one_is_removed(tmp_path):
    (tmp_path / "Procfile").write_text('show: echo "status in $CULVERT_SUPERVISOR_STATUS"; exec sleep 60\n')
    process = subprocess.Popen(
        [sys.executable, str(RUNNER), "-f", str(tmp_path / "Procfile")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "status in " in line:
                break
        path = Path(lines[-1].split("status in ")[1].strip())
        status = wait_until(
            lambda: (found := json.loads(path.read_text()))["processes"]["show.1"]["state"] == "running" and found,
            30,
            message="the status file to say it runs",
        )
        assert status["supervisor_pid"] == process.pid
        assert oct(path.stat().st_mode & 0o777) == oct(0o600)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        kill_session(process.pid)
    assert process.returncode == 0 and not path.exists()


def test_a_second_stop_request_kills_at_once(tmp_path):
    runner = Supervisor(
        tmp_path, "stubborn: trap '' TERM; echo trap set; while true; do sleep 0.1; done\n", "--grace", "600"
    )
    runner.wait_for("stubborn.1 | trap set")
    runner.process.send_signal(signal.SIGTERM)
    runner.wait_for("sending SIGTERM to stubborn.1")
    runner.process.send_signal(signal.SIGINT)
    output = runner.finish()  # within its 30 s bound, not the 600 s grace
    assert "stubborn.1 a second stop request: SIGKILL" in output
    assert runner.process.returncode == 1, output


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


def test_a_crash_loop_of_days_keeps_the_longest_backoff(tmp_path, capsys):
    """Thousands of exits in a row (a day of a process that cannot start) must not overflow the backoff."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("procfile_run", str(RUNNER))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("procfile_run", loader))
    loader.exec_module(module)
    runner = module.Runner([("broken", "exit 1")], 8000, 1.0, status_path=str(tmp_path / "status.json"))
    process = runner.processes[0]
    process.exits_in_a_row = 5000
    process.crash_looping = True
    runner.after_exit(process, 1)
    assert process.state == "crash-looping" and process.exits_in_a_row == 5001
    assert "broken.1 will be restarted in 30 s" in capsys.readouterr().out
