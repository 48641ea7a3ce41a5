"""One harness for real edge servers, shared by tests/, integration/ and bench/.

What a target *is* to the harness lives in :mod:`edgeharness.targets` (binary, image,
the command line that validates, starts and reloads a config, as a table; the skeleton
of its main config); how a server runs lives in :mod:`edgeharness.process` (a local
process, stopped by pid) and :mod:`edgeharness.containers` (a Docker container); every
edge proxies to the one upstream, :mod:`edgeharness.upstream` (started, like any uvicorn
app, by :mod:`edgeharness.apps`); what a missing server means (skip, or fail under
``CI=true``) is decided once, in :mod:`edgeharness.availability`.

A new target plugs in with: a :class:`~edgeharness.targets.Target` entry (its own module
when it needs helpers, as :mod:`edgeharness.haproxy`); then, per scenario, the servers
inside its main config: ``write_main_config`` of an ``Edge`` in tests/edge_servers.py,
``render_main_config`` of an ``EdgeServer`` in integration/edge.py (and an image in
integration/build-images.sh), a ``*_server`` function in bench/edges.py.

Not part of the corsgen wheel (pyproject ships ``corsgen`` only); the sdist carries it
next to the tests.
"""
