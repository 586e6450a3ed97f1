"""The domain error hierarchy: what services raise, independent of HTTP."""


# --8<-- [start:domain_errors]
class DomainError(Exception):
    """Base class for errors a client can act on; the API answers them as
    problem details.
    """

    title = "Request could not be processed"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFoundError(DomainError):
    """The resource does not exist, or was soft-deleted."""

    title = "Resource not found"


class ConflictError(DomainError):
    """The request contradicts the current state, such as a duplicate unique
    value.
    """

    title = "Resource conflict"

    def __init__(
        self,
        detail: str,
        *,
        fields: tuple[str, ...] = (),
        constraint: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.fields = fields
        """The input fields whose values are taken; the problem lists them,
        never their values.
        """
        self.constraint = constraint
        """The violated index or constraint, for the server's own use; never
        sent to the client.
        """


# --8<-- [end:domain_errors]


# --8<-- [start:idempotency_errors]


class IdempotencyKeyInFlightError(ConflictError):
    """A request with the same `Idempotency-Key` is still being processed."""

    title = "Request in progress"


class IdempotencyKeyReusedError(DomainError):
    """An `Idempotency-Key` came back with another request: a client bug, never
    a retry.
    """

    title = "Idempotency key reused"


# --8<-- [end:idempotency_errors]


# --8<-- [start:concurrency_errors]
class PreconditionFailedError(DomainError):
    """The client's `If-Match` names a version the resource no longer has: its
    copy is stale.
    """

    title = "Precondition failed"


class PreconditionRequiredError(DomainError):
    """An update came without `If-Match`, so it cannot be checked against the
    version the client read.
    """

    title = "Precondition required"


class ContentionError(DomainError):
    """A transaction still failed with a serialization failure or a deadlock
    after its last retry.
    """

    title = "Service busy"


# --8<-- [end:concurrency_errors]
