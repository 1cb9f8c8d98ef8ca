"""Domain errors, mapped once to HTTP statuses (REST) and gRPC codes (interceptor)."""

from __future__ import annotations

import grpc


class ApiError(Exception):
    code = "internal"
    http_status = 500
    grpc_code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ApiError):
    code = "invalid_argument"
    http_status = 400
    grpc_code = grpc.StatusCode.INVALID_ARGUMENT


class Unauthenticated(ApiError):
    code = "unauthenticated"
    http_status = 401
    grpc_code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(ApiError):
    code = "permission_denied"
    http_status = 403
    grpc_code = grpc.StatusCode.PERMISSION_DENIED


class NotFound(ApiError):
    code = "not_found"
    http_status = 404
    grpc_code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(ApiError):
    code = "failed_precondition"
    http_status = 422
    grpc_code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(ApiError):
    code = "unavailable"
    http_status = 503
    grpc_code = grpc.StatusCode.UNAVAILABLE
