"""Errors the simulation's moto extensions raise, with the HTTP status AWS gives them.

This module's name must not start with `moto`: moto infers an exception's service from its module.
moto serialises an error whose code is not in the service model with HTTP 400; `install()` teaches its
serialiser to honour an `http_status` on the exception (AccessDenied is 403 on AWS, Throttling 400).
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import ServiceException


class SimError(ServiceException):
    """A service error with an explicit HTTP status."""

    http_status = 400

    def __init__(self, code: str, message: str, http_status: int | None = None) -> None:
        super().__init__(code, message)
        if http_status is not None:
            self.http_status = http_status


def access_denied(message: str) -> SimError:
    return SimError("AccessDenied", message, 403)


def validation_error(message: str) -> SimError:
    return SimError("ValidationError", message, 400)


_installed = False


def install() -> None:
    """Wrap moto's error-shape lookup so a SimError's status reaches the HTTP response."""
    global _installed
    if _installed:
        return
    import moto.core.serialize as serialize
    from moto.core.errors import ErrorShape

    original = serialize.get_error_model

    def get_error_model(exception: Exception, default_service_model: Any) -> ErrorShape:
        status = getattr(exception, "http_status", None)
        if isinstance(exception, SimError) and status:
            code = exception.code
            return ErrorShape(shape_name=code, shape_model={
                "exception": True, "type": "structure", "members": {},
                "error": {"code": code, "httpStatusCode": status, "senderFault": True},
            })
        return original(exception, default_service_model)

    serialize.get_error_model = get_error_model
    _installed = True
