"""Runs llama-cpp-python's server, and stops it as soon as the process that started it dies.

`LocalServer` stops the server on every exit it can see (normal, error, Ctrl-C, SIGTERM), but
a parent killed with SIGKILL runs no code at all; this watchdog covers that case, so no
gigabyte-sized model process outlives its run.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time

POLL_SECONDS = 1.0


def _exit_when_orphaned(parent: int) -> None:
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(POLL_SECONDS)


def main() -> None:
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    sys.argv = ["llama_cpp.server", *sys.argv[1:]]
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
