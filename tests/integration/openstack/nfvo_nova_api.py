"""WSGI entry for the test Nova API under gunicorn: Nova parses ``sys.argv`` as its own
options, so gunicorn's arguments are hidden from it before the application is built."""

import sys

sys.argv = sys.argv[:1]

from nova.wsgi.osapi_compute import application  # noqa: E402

__all__ = ["application"]
