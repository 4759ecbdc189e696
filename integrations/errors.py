"""One family of errors for every outside party, so callers handle failures one way."""


class IntegrationError(Exception):
    """An outside party failed us. `retryable` says whether trying again may help."""

    retryable = True
    code = "UPSTREAM_ERROR"

    def __init__(self, party: str, message: str, status: int | None = None):
        super().__init__(f"{party}: {message}")
        self.party, self.message, self.status = party, message, status


class UpstreamUnavailable(IntegrationError):
    code = "UPSTREAM_UNAVAILABLE"


class UpstreamTimeout(IntegrationError):
    code = "UPSTREAM_TIMEOUT"


class UpstreamRejected(IntegrationError):
    """The party understood us and said no; repeating the same request will not change that."""

    code = "UPSTREAM_REJECTED"
    retryable = False


class UpstreamBadResponse(IntegrationError):
    code = "UPSTREAM_BAD_RESPONSE"
