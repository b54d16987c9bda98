"""Errors of the STN daemon, each mapped to one gRPC status code by the server."""

from __future__ import annotations

import grpc


class StnError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.INTERNAL


class InvalidRequest(StnError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class InterfaceNotFound(StnError):
    code = grpc.StatusCode.NOT_FOUND


class NotStolen(StnError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyStolen(StnError):
    code = grpc.StatusCode.ALREADY_EXISTS


class NotRestorable(StnError):
    """The interface cannot be restored now (e.g. the link is still away); the record is kept."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class OperationFailed(StnError):
    """Linux or the disk refused a step; the message says what was left in which state."""

    code = grpc.StatusCode.INTERNAL
