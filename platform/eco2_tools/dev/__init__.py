"""`eco2 dev`: one local gateway in front of every function, routed as in the cluster.

Each function runs in its own process exactly as in production (functions-framework
serving ``handle``, a gunicorn master and its worker). As Knative does, a function
starts on its first request while the gateway holds that request (the activator),
stops after ``idle_seconds`` without traffic (scale to zero), and the gateway
restarts it when its folder or the runtime (platform/eco2) changes.

- :mod:`.process`: :class:`FunctionProcess`, one function's process, its start, stop and counters.
- :mod:`.gateway`: :class:`Gateway`, routing, proxying, the idle reaper, reloads.
- :mod:`.pages`: the status page and the API docs pages at ``/_eco2/``.
- :mod:`.command`: :func:`run`, backing services, migrations and signals around a Gateway.
"""

from eco2_tools.dev.command import run
from eco2_tools.dev.gateway import Gateway
from eco2_tools.dev.process import FunctionProcess

__all__ = ["FunctionProcess", "Gateway", "run"]
