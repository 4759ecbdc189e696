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
    """The party understood us and said no; repeating the same request will not change that.

    `public_message`, when an adapter sets it, is the party's own words for the citizen (a department's
    "未查询到该户号"), chosen by the adapter so it never quotes personal data back. `reason` is one of
    not_found, invalid, forbidden: how our API answers (404, 422, 403).
    """

    code = "UPSTREAM_REJECTED"
    retryable = False

    def __init__(self, party: str, message: str, status: int | None = None, *, public_message=None, reason=None):
        super().__init__(party, message, status)
        self.public_message, self.reason = public_message, reason


class UpstreamBadResponse(IntegrationError):
    code = "UPSTREAM_BAD_RESPONSE"
