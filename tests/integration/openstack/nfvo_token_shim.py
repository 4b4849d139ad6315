"""A paste filter standing in for keystonemiddleware in front of a test Nova API.

Nova has no unauthenticated mode any more; this filter accepts exactly one static token and
sets the identity headers keystonemiddleware would (an admin of project ``nfvo``), so Nova's
own ``NovaKeystoneContext`` builds the request context. ``<token>:<project>`` is the same
admin scoped to another project (for per-project quotas). Any other token gets a 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

_IDENTITY = {
    "HTTP_X_IDENTITY_STATUS": "Confirmed",
    "HTTP_X_USER_ID": "nfvo-admin",
    "HTTP_X_USER_NAME": "nfvo-admin",
    "HTTP_X_USER_DOMAIN_ID": "default",
    "HTTP_X_PROJECT_ID": "nfvo",
    "HTTP_X_PROJECT_NAME": "nfvo",
    "HTTP_X_PROJECT_DOMAIN_ID": "default",
    "HTTP_X_ROLES": "admin,member,reader",
}


def filter_factory(global_conf: dict[str, Any], **local_conf: str) -> Callable[[Any], Any]:
    """Paste entry point: ``token`` in the filter's section is the one accepted token."""
    token = local_conf.get("token", "admin")

    def wrap(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            for key in list(environ):
                if key.startswith(("HTTP_X_USER", "HTTP_X_PROJECT", "HTTP_X_ROLE")):
                    del environ[key]
            given = str(environ.get("HTTP_X_AUTH_TOKEN") or "")
            base, _, project = given.partition(":")
            if base != token:
                body = json.dumps({"error": {"code": 401, "message": "invalid token"}}).encode()
                start_response(
                    "401 Unauthorized",
                    [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                )
                return [body]
            environ.update(_IDENTITY)
            if project:
                environ["HTTP_X_PROJECT_ID"] = environ["HTTP_X_PROJECT_NAME"] = project
            return app(environ, start_response)

        return middleware

    return wrap
