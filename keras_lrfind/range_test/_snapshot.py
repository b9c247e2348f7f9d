"""A snapshot of a model's whole training state, to put it back after a range test."""

from __future__ import annotations

import math

import numpy as np

from keras_lrfind._compat import distribute


class StateSnapshot:
    """A copy of every variable of a model, its optimizer and its metrics.

    Restoring assigns the saved values back into the same variable objects, so the
    optimizer slots, `iterations`, the learning-rate variable, metric totals and random
    seed states all come back bit for bit. Under a `tf.distribute` strategy every replica's
    copy is saved and restored, as replicas may differ (BatchNormalization's moving
    statistics, metric totals): assigning the variable itself would give them all the
    first replica's value (or, for metrics, an equal share of the total). Under a
    distribution over several JAX processes each value is written on this process alone
    (`distribute.local_value`), so a process gets its model back even when another one
    has died.

    Args:
        model: A compiled Keras model. Variables it gains later (`fit` building the model,
            its optimizer and metrics in the first train step) are copied by `add_new`
            before they change.
    """

    def __init__(self, model):
        self.variables = []
        self.values = []
        self.replica_values = []
        self._index: dict[int, int] = {}  # id(variable) -> its position here.
        self.add_new(model)

    def add_new(self, model) -> None:
        """Copies the variables `model` has gained since (after a deferred build)."""
        for variable in (
            list(model.variables)
            + list(model.optimizer.variables)
            + [v for metric in model.metrics for v in metric.variables]
        ):
            if id(variable) in self._index:
                continue
            self._index[id(variable)] = len(self.variables)
            self.variables.append(variable)
            self.values.append(np.array(variable.numpy(), copy=True))
            replicas = distribute.replica_variables(variable)
            self.replica_values.append(
                None
                if replicas is None
                else [(copy, np.array(copy.numpy(), copy=True)) for copy in replicas]
            )

    def empty_metrics(self, model) -> None:
        """Empties the model's metrics, so that those built during the run end empty.

        `model.reset_metrics()`, except under a distribution over several JAX processes:
        Keras's reset writes every metric variable across the processes, which fails once
        one of them has died. There only the metric variables this snapshot lacks (built
        during the run) are emptied, to zeros as every Keras metric's `reset_state` does,
        on this process alone (`distribute.local_value`); `restore` puts the others back.
        """
        if not any(distribute.spans_processes(variable) for variable in self.variables):
            model.reset_metrics()
            return
        for metric in model.metrics:
            for variable in metric.variables:
                if id(variable) not in self._index:
                    zeros = np.zeros(variable.shape, dtype=variable.dtype)
                    variable.assign(distribute.local_value(variable, zeros))

    def relative_change(self, variables) -> float:
        """How far `variables` (saved here) moved since the snapshot: the norm of their
        change over the norm of their saved values, all of them as one vector (infinite
        when they were all zero and moved, NaN when a value is not finite)."""
        change = start = 0.0
        for variable in variables:
            value = self.values[self._index[id(variable)]]
            if "float" not in str(value.dtype):
                continue
            start += float(np.sum(np.square(value, dtype=np.float64)))
            moved = np.asarray(variable.numpy(), dtype=np.float64) - value
            change += float(np.sum(np.square(moved)))
        if start == 0.0:
            return math.inf if change > 0.0 else 0.0
        return math.sqrt(change / start)

    def restore(self, only=None) -> None:
        """Puts the saved values back: into every variable, or only into `only`."""
        for variable, value, replica_values in zip(
            self.variables, self.values, self.replica_values, strict=True
        ):
            if only is not None and variable is not only:
                continue
            if replica_values is None:
                variable.assign(distribute.local_value(variable, value))
            else:
                for copy, copy_value in replica_values:
                    copy.assign(copy_value)
