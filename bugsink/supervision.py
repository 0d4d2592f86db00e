"""What the supervisor (bin/procfile-run, under `make serve`) says about the processes it runs, for /health/ready and
the admin.

The supervisor writes a JSON file, atomically, whenever a process starts, exits, is restarted or settles, and gives
its path to every process it starts in CULVERT_SUPERVISOR_STATUS. A process started some other way (`make run`,
systemd, a container per process) has no such variable: it is "not supervised", and nothing here applies. A process
is healthy when its state is "running"; "starting" (the supervisor's first moment), "restarting" (dead, waiting
out its backoff), "crash-looping" (it exited several times in a row without staying up), "stopping" and "stopped"
are not. A status whose supervisor is gone (killed with -9, so it never said so) is reported as such: its
processes' states are no longer anyone's.
"""

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime

STATUS_ENV = "CULVERT_SUPERVISOR_STATUS"
STATES = ("starting", "running", "restarting", "crash-looping", "stopping", "stopped")


@dataclass(frozen=True)
class ProcessStatus:
    name: str
    state: str
    pid: int | None
    restarts: int
    crash_looping: bool
    last_exit_code: int | None
    since: datetime | None
    last_output: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return self.state == "running"

    def describe(self) -> str:
        """One line for a reason: "digest.1 is restarting (last exit code -9, 3 restarts)"."""
        text = f"{self.name} is {self.state}"
        details = []
        if self.last_exit_code is not None:
            details.append(f"last exit code {self.last_exit_code}")
        if self.restarts:
            details.append(f"{self.restarts} restart{'s' if self.restarts != 1 else ''}")
        return f"{text} ({', '.join(details)})" if details else text


@dataclass(frozen=True)
class SupervisorStatus:
    path: str
    supervisor_pid: int | None = None
    supervisor_alive: bool = False
    updated_at: datetime | None = None
    stopping: bool = False
    processes: list[ProcessStatus] = field(default_factory=list)
    error: str = ""  # the file could not be read or made no sense

    def problems(self) -> list[str]:
        """Why the supervised processes are not all up, one reason each; empty when they are."""
        if self.error:
            return [self.error]
        if not self.supervisor_alive:
            return [f"the supervisor (pid {self.supervisor_pid}) is gone: nothing restarts a process that dies"]
        found = [process.describe() for process in self.processes if not process.healthy]
        if self.stopping:
            found.insert(0, "the supervisor is stopping every process")
        return found


def status_path() -> str | None:
    return os.environ.get(STATUS_ENV) or None


def read_status(path: str | None = None) -> SupervisorStatus | None:
    """The supervisor's last word, or None when this process is not supervised."""
    path = path or status_path()
    if path is None:
        return None
    try:
        with open(path) as file:
            data = json.load(file)
        processes = [_process(name, entry) for name, entry in data["processes"].items()]
        pid = int(data["supervisor_pid"])
        return SupervisorStatus(
            path=path,
            supervisor_pid=pid,
            supervisor_alive=_alive(pid),
            updated_at=_time(data.get("updated_at")),
            stopping=bool(data.get("stopping")),
            processes=processes,
        )
    except FileNotFoundError:
        return SupervisorStatus(path=path, error=f"the supervisor's status file {path} is missing")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        return SupervisorStatus(path=path, error=f"the supervisor's status file {path} is unreadable ({e})")


def _process(name: str, entry: dict) -> ProcessStatus:
    state = str(entry["state"])
    if state not in STATES:
        raise ValueError(f"unknown state {state!r} of {name}")
    return ProcessStatus(
        name=str(name),
        state=state,
        pid=int(entry["pid"]) if entry.get("pid") is not None else None,
        restarts=int(entry.get("restarts") or 0),
        crash_looping=bool(entry.get("crash_looping")),
        last_exit_code=int(entry["last_exit_code"]) if entry.get("last_exit_code") is not None else None,
        since=_time(entry.get("since")),
        last_output=[str(line) for line in entry.get("last_output") or []],
    )


def _time(value) -> datetime | None:
    return datetime.fromtimestamp(float(value), tz=UTC) if value is not None else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process, but a process
    return True
