"""One harness for real edge servers, shared by tests/, integration/ and bench/.

What a target *is* to the harness lives in :mod:`edgeharness.targets` (binary, image,
the commands that validate, start and reload a config, modules to load); how a server
runs lives in :mod:`edgeharness.process` (a local process) and
:mod:`edgeharness.containers` (a Docker container); what a missing server means (skip,
or fail under ``CI=true``) is decided once, in :mod:`edgeharness.availability`.

Not part of the corsgen wheel (pyproject ships ``corsgen`` only).
"""
