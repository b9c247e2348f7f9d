"""Test scenarios in interpreters of their own (distribution, KerasTuner workers): start
them, wait for all within one deadline, read what each printed, and never leave one behind.

A worker's output goes to files, not pipes (a full pipe would block it). Each worker leads
a process group of its own, so that `stop` ends everything it started.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import time

import pytest


@dataclasses.dataclass
class Finished:
    """What a worker left: its exit status, its standard output's lines, its stderr."""

    returncode: int
    lines: list[str]
    stderr: str

    @property
    def crashed(self) -> bool:
        """Whether the interpreter died of a fault of native code (segmentation fault, bus
        error, illegal instruction, abort), not of an exit or of a kill by the test."""
        return -self.returncode in (signal.SIGSEGV, signal.SIGBUS, signal.SIGILL, signal.SIGABRT)

    def report(self, prefix: str) -> dict | None:
        """The JSON printed on the first line that starts with `prefix`, or `None`."""
        for line in self.lines:
            if line.startswith(prefix):
                return json.loads(line[len(prefix) :])
        return None


def start(command, environment, directory, name):
    """Starts `command`; its stdout and stderr go to `directory/name.out` and `.err`.

    Python's fault handler is on in the worker, so a crash in native code leaves the
    Python stack of every thread at the end of its stderr."""
    stdout = open(directory / f"{name}.out", "w+")  # Both closed by `finish` or `stop_all`.
    stderr = open(directory / f"{name}.err", "w+")
    process = subprocess.Popen(
        command,
        env=dict(environment, PYTHONFAULTHANDLER="1"),
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
    )
    return process, stdout, stderr


def stop(process) -> None:
    """Kills a worker's whole process group, if it still runs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stop_all(workers) -> None:
    """Kills every worker still running and closes their files."""
    for process, stdout, stderr in workers:
        stop(process)
        stdout.close()
        stderr.close()


def finish(workers, timeout: float, what: str) -> list[Finished]:
    """Waits for every worker within `timeout` seconds in all (the test fails, naming
    `what`, when one has not finished by then); every worker is stopped either way."""
    deadline = time.monotonic() + timeout
    finished = []
    try:
        for process, stdout, stderr in workers:
            try:
                process.wait(timeout=max(deadline - time.monotonic(), 0))
            except subprocess.TimeoutExpired:
                pytest.fail(f"{what} did not finish in {timeout} s.")
            stdout.seek(0)
            stderr.seek(0)
            finished.append(Finished(process.returncode, stdout.readlines(), stderr.read()))
    finally:
        stop_all(workers)
    return finished


def free_ports(count: int) -> list[int]:
    """Ports free on the loopback address now (the sockets are held until all are picked)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()
