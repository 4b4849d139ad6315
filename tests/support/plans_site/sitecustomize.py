"""Loaded at start-up by server subprocesses of the action plan tests (on PYTHONPATH): the
stand-in planners when ``nfvo.optimizer.plans`` is not there yet."""

from tests.support.plans_standin import install

install()
