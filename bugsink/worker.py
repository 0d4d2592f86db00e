"""`python -m bugsink.worker ARGS` runs Celery's command line exactly as `celery ARGS` does, ~8.5 MB lighter.

Celery's CLI module imports its `amqp` command, whose interactive shell brings click-repl and, through it,
prompt_toolkit, wcwidth and xml.dom.minidom: about 150 modules resident in every worker, used by nothing a worker
does. Here click-repl's one function (`register_repl`, which only adds a `repl` subcommand to `celery amqp`) gets a
stand-in before Celery's CLI loads; everything else is Celery's own code with these arguments. The Procfile starts
its workers this way; the `celery` command keeps its `amqp repl`.
"""

import sys
import types


def _without_click_repl() -> None:
    if "click_repl" in sys.modules:
        return
    stand_in = types.ModuleType("click_repl")
    stand_in.register_repl = lambda group, name="repl": None
    sys.modules["click_repl"] = stand_in


def main() -> int:
    _without_click_repl()
    from celery.bin.celery import main as celery_main

    return celery_main()


if __name__ == "__main__":
    sys.exit(main())
