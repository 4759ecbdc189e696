"""Connectors: one class per kind of department system, declaring what it can do (Redash's query-runner
registry is the model).

A class declares its operations (inputs, normalized output, how long an answer stays fresh), and the
schema of its configuration with the secret fields marked. `REGISTRY` maps a kind to its class; the app
builds configured instances from stored configuration (app/connectors). An adapter method, named as its
operation, calls the party through `self.request` and turns the party's own fields, dates, codes and
error shapes into the normalized output.
"""

from __future__ import annotations

import functools
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from urllib.parse import urlsplit

import marshmallow as ma
import requests

from integrations.connectors.signing import MemoryTokens, Outgoing, Signer, TokenStore
from integrations.errors import UpstreamBadResponse
from integrations.http import CONNECT_TIMEOUT_SECONDS, deadline, retrying, send


@dataclass(frozen=True)
class Identity:
    """The citizen as the population database confirmed them: what a personal operation is given,
    never a number the citizen typed."""

    name: str
    id_number: str


@dataclass(frozen=True)
class Answer:
    result: dict
    as_of: datetime  # timezone-aware: when the party's data was current


@dataclass(frozen=True)
class Operation:
    title: str
    inputs: type[ma.Schema]
    output: type[ma.Schema]
    fresh_seconds: int = 60  # a cached answer younger than this is served without calling
    stale_seconds: int = 0  # past freshness, how long an answer may stand in while the party is down
    idempotent: bool = True  # reads are; only they are retried
    identity: bool = False  # personal: given the verified identity, so the service must require real name
    account: str | None = None  # the kind of bound account whose number the input `account_no` takes
    internal: bool = False  # used by the platform itself (verifying a bound account), not bindable


@functools.cache
def _schema(schema_class: type[ma.Schema]) -> ma.Schema:
    """One instance per schema class: loading is thread-safe, building one per call is not free."""
    return schema_class()


def secret(field: ma.fields.Field) -> ma.fields.Field:
    """Mark a configuration field secret: stored encrypted, never returned by any API."""
    field.metadata["x-secret"] = True
    field.load_only = True
    return field


class BaseConfig(ma.Schema):
    base_url = ma.fields.Url(required=True, schemes={"http", "https"}, require_tld=False)
    connect_timeout = ma.fields.Float(load_default=CONNECT_TIMEOUT_SECONDS, validate=ma.validate.Range(0.1, 10))
    read_timeout = ma.fields.Float(load_default=5.0, validate=ma.validate.Range(0.5, 10))
    attempts = ma.fields.Integer(load_default=2, validate=ma.validate.Range(1, 3))
    # The whole of one call (retries, a token fetch, every page) ends within this: well inside the 30 s a
    # web worker is given, and long before a citizen gives up.
    deadline_seconds = ma.fields.Float(load_default=10.0, validate=ma.validate.Range(1, 25))
    failure_threshold = ma.fields.Integer(load_default=5, validate=ma.validate.Range(1, 100))
    open_seconds = ma.fields.Integer(load_default=30, validate=ma.validate.Range(1, 3600))


class KeyAndSecret(BaseConfig):
    app_key = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))
    app_secret = secret(ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=256)))


class VerifiedAccount(ma.Schema):
    """What a verification answers: shown to the citizen masked, so they can tell their accounts apart."""

    account_no = ma.fields.String(required=True)
    holder = ma.fields.String(required=True, metadata={"description": "the holder's name, masked: 张*"})
    label = ma.fields.String(load_default=None, allow_none=True, metadata={"description": "e.g. a masked address"})


class WriteOffInput(ma.Schema):
    """What the platform tells a bill's issuer was paid (销账). `payment_id` is the issuer's idempotency
    key: the same write-off sent again (a retry after a lost answer) must answer the first receipt."""

    kind = ma.fields.String(required=True, metadata={"description": "the bound account's kind: water, si…"})
    account_no = ma.fields.String(required=True)
    bill_ids = ma.fields.List(ma.fields.String(), required=True, validate=ma.validate.Length(min=1, max=24))
    amount_fen = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1))
    payment_id = ma.fields.String(required=True, validate=ma.validate.Length(min=6, max=64))
    channel = ma.fields.String(required=True, validate=ma.validate.OneOf(["wechat", "alipay"]))
    transaction_id = ma.fields.String(required=True)
    paid_at = ma.fields.AwareDateTime(required=True)


class WriteOffReceipt(ma.Schema):
    receipt_no = ma.fields.String(required=True, metadata={"description": "the issuer's 销账流水号"})
    written_off_at = ma.fields.AwareDateTime(required=True)


REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    REGISTRY[cls.kind] = cls
    return cls


class Connector(ABC):
    kind: ClassVar[str]
    title: ClassVar[str]
    Config: ClassVar[type[ma.Schema]] = KeyAndSecret
    operations: ClassVar[dict[str, Operation]]
    # Kinds of account a citizen can bind through this connector (户号, 公积金账号…), each with the internal
    # operation that verifies one: inputs `account_no` (and `holder_name` where the party checks it), the
    # verified identity where the account is personal; it answers VerifiedAccount or refuses.
    accounts: ClassVar[dict[str, str]] = {}
    # Kinds of bound account whose bills a citizen can pay, each with the operation listing them (inputs
    # `account_no`; output with `bills`: bill_id, period, amount_fen, late_fee_fen?, due_date, status). Such a
    # connector also has the internal operation "write_off" (WriteOffInput -> WriteOffReceipt): a refusal
    # with reason "rejected" means the issuer will not take the payment (refund it); other failures, retry.
    bills: ClassVar[dict[str, str]] = {}

    def __init__(self, name: str, settings: dict, tokens: TokenStore | None = None):
        self.name, self.settings = name, settings
        self.tokens = tokens or MemoryTokens()
        self.base_url = settings["base_url"].rstrip("/")
        self.timeout = (settings["connect_timeout"], settings["read_timeout"])
        self.signer = self.make_signer()

    @abstractmethod
    def make_signer(self) -> Signer:
        """The party's signing style, built from this connector's settings."""

    # -- for the framework ---------------------------------------------------------------------

    def run(self, operation: str, inputs: dict, identity: Identity | None = None) -> Answer:
        """The operation's normalized answer; the party's failures raise from integrations.errors."""
        return self.perform(operation, self.load_inputs(operation, inputs), identity)

    def load_inputs(self, operation: str, inputs: dict) -> dict:
        """The inputs as the operation takes them; marshmallow's ValidationError if they are not."""
        return _schema(self.operations[operation].inputs).load(inputs)

    def perform(self, operation: str, loaded: dict, identity: Identity | None = None) -> Answer:
        """Run the operation on inputs already loaded, within the connector's deadline."""
        op = self.operations[operation]
        if op.identity and identity is None:
            raise ValueError(f"{self.kind}.{operation} is personal: it needs the verified identity")
        with deadline(self.settings["deadline_seconds"]):
            answer = getattr(self, operation)(loaded, identity)
        problems = _schema(op.output).validate(answer.result)
        if problems:
            # The adapter met an answer it did not expect (a changed field, a missing date): not ours to guess.
            raise UpstreamBadResponse(self.name, f"{operation}: answer not understood ({sorted(problems)})")
        return answer

    # -- for adapters --------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: dict | None = None,
        headers: dict | None = None,
        idempotent: bool = True,
    ) -> requests.Response:
        """Signed afresh for every attempt (a retried nonce would be refused as a replay); retried only when
        idempotent; once more after the party refuses an expired token."""
        url = f"{self.base_url}{path}"
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        signed_path = urlsplit(url).path

        def attempt() -> requests.Response:
            for _ in range(2):
                outgoing = Outgoing(method, signed_path, dict(params or {}), body, dict(headers or {}))
                if body:
                    outgoing.headers.setdefault("Content-Type", "application/json; charset=utf-8")
                self.signer.sign(outgoing)
                response = send(
                    self.name,
                    method,
                    url,
                    params=outgoing.params,
                    data=body or None,
                    headers=outgoing.headers,
                    timeout=self.timeout,
                )
                if not self.signer.refused(response.status_code, response.content):
                    return response
            return response

        if not idempotent:
            return attempt()
        return retrying(self.settings["attempts"], self.timeout[1])(attempt)

    def json_of(self, response: requests.Response) -> dict:
        try:
            parsed = response.json()
        except ValueError:
            raise UpstreamBadResponse(self.name, f"HTTP {response.status_code} with a body that is not JSON") from None
        if not isinstance(parsed, dict):
            raise UpstreamBadResponse(self.name, "answered JSON that is not an object")
        return parsed

    # -- for the registry API ------------------------------------------------------------------

    @classmethod
    def describe(cls) -> dict:
        from integrations.connectors.schemas import describe_connector

        return describe_connector(cls)
