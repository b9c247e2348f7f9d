"""The chief's side of KerasTuner's distributed tuning, with a watch that cannot hang.

KerasTuner's chief (`keras_tuner.src.distribute.oracle_chief.start_server`) serves the
oracle over gRPC and waits, forever, until every tuner that asked for a trial has been
told to stop: a worker killed in the middle of a trial keeps its trial running for ever,
and the chief with it. `serve` is the same server (KerasTuner's own servicer, so the
workers' `OracleClient` talks to it unchanged) with `LearningRateOracle.watch` in its
loop, which gives a dead worker's probe to another worker and raises when none is left.
On a worker, `connect` gives KerasTuner's proxy of the chief a channel that reaches a chief
which started late within a second.

This is the only module that uses KerasTuner internals (`keras_tuner.src`: there is no
public API for the chief's server nor for the roles): `oracle_chief.OracleServicer`,
`protos`, `distribute.utils` and the `stub` of the workers' `OracleClient`, checked
on keras-tuner 1.4.7 and 1.4.8 (unchanged since 1.1).
"""

from __future__ import annotations

import os
import time
from concurrent import futures

WATCH_SECONDS = 0.5
"""How often the chief looks at the workers and at the search's end."""

RECONNECT_MS = 1000
"""The longest a worker waits between two tries to reach the chief, in milliseconds."""


def role() -> str:
    """This process's role in KerasTuner's distributed tuning: `"chief"`, `"worker"`, or
    `"alone"` (KerasTuner's own rule, from the `KERASTUNER_*` environment variables)."""
    from keras_tuner.src.distribute import utils

    if not utils.has_chief_oracle():
        return "alone"
    return "chief" if utils.is_chief_oracle() else "worker"


def _address() -> str:
    """The chief's `KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT`."""
    return f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"


def connect(client) -> None:
    """Points a worker's `OracleClient` (KerasTuner's proxy of the chief's oracle) at the
    chief over a channel that retries at least every `RECONNECT_MS`.

    KerasTuner's own channel keeps gRPC's default reconnect backoff, up to 120 s between
    tries: a worker started while the chief still ran its range test reached the chief
    seconds to minutes after it began to serve (14 s after a 30 s wait, measured), and the
    chief, whose `worker_timeout` counts from then, could take every worker for absent.
    """
    import grpc
    from keras_tuner.src import protos

    options = [
        (f"grpc.{name}_reconnect_backoff_ms", RECONNECT_MS) for name in ("initial", "min", "max")
    ]
    channel = grpc.insecure_channel(_address(), options=options)
    client.stub = protos.get_service_grpc().OracleStub(channel)


def serve(oracle) -> None:
    """Serves `oracle` at `KERASTUNER_ORACLE_IP:KERASTUNER_ORACLE_PORT` until the search is
    over and every worker was told so.

    Raises:
        RuntimeError: If the port cannot be bound, or from `oracle.watch` (no worker left).
    """
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    address = _address()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    protos.get_service_grpc().add_OracleServicer_to_server(
        oracle_chief.OracleServicer(oracle), server
    )
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError as error:  # grpcio 1.5x+ raises; older ones return 0.
        bound, cause = 0, error
    else:
        cause = None
    if not bound:
        raise RuntimeError(
            f"The chief cannot serve the oracle at {address} (KERASTUNER_ORACLE_IP:"
            "KERASTUNER_ORACLE_PORT): the port is taken or the address is not this host's. "
            "Pick a free port and give the same one to every worker."
        ) from cause
    server.start()
    try:
        while not oracle.watch():
            time.sleep(WATCH_SECONDS)
    finally:
        server.stop(grace=None)
