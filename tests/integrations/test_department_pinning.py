"""In production a department's name is resolved once, vetted, and that address is the one we connect to:
a DNS answer that changes between the check and the connection (DNS rebinding) cannot send a signed call,
a health check or a webhook into our own network. TLS and the Host header still speak for the name."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from contextlib import contextmanager

import pytest
import requests
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from integrations.department_contract import client as contract
from integrations.department_contract import endpoint as endpoint_rules
from integrations.department_contract import signing
from integrations.department_contract.pinning import pin, pinned_session
from integrations.department_contract.webhook import post_event
from integrations.errors import UpstreamBadResponse, UpstreamUnavailable
from tests.servers import QuietHandler

KEY_ID, SECRET = "city-2026", "a-department-secret-of-some-length"
NAME = "gjj.example.test"  # the department's registered host name
VETTED = "8.8.8.8"  # a public answer: what the check sees
FAST = (1.0, 1.0)


# --- a department on HTTPS, with a certificate for NAME from a CA of our own ---------------------------------


def _certificate(subject: str, issuer_name: x509.Name, issuer_key, public_key, ca: bool) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:  # a name only, no IP address: a check against the address we connect to would fail
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("department-tls")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test department CA")])
    ca = _certificate("Test department CA", ca_name, ca_key, ca_key.public_key(), ca=True)
    server = _certificate(NAME, ca_name, ca_key, key.public_key(), ca=False)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return folder


class Department:
    """Verifies our signature like a real department and records what arrived, and over which TLS name."""

    def __init__(self):
        self.received: list[dict] = []
        self.server_names: list[str | None] = []
        self.app = Flask("pinned-department")

        @self.app.route("/dept/", methods=["POST"])
        @self.app.route("/dept/health", methods=["GET"])
        @self.app.route("/dept/events", methods=["POST"])
        def anything():
            try:
                signing.verify(SECRET, request.method, request.path, request.get_data(), request.headers)
            except signing.ContractSignatureError:
                return jsonify(ok=False, code="BAD_SIGNATURE"), 401
            self.received.append(
                {"path": request.path, "host": request.host, "idempotency_key": request.headers.get("Idempotency-Key")}
            )
            if request.path.endswith("/health"):
                return jsonify(ok=True)
            if request.path.endswith("/events"):
                return "", 204
            return jsonify(ok=True, result={"status": "办理中"}, as_of="2026-11-20T09:30:00+08:00")


@contextmanager
def serving_tls(wsgi_app, folder, server_names):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True, request_handler=QuietHandler, ssl_context=context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_port
    finally:
        server.shutdown()


@pytest.fixture
def department(tls_files, monkeypatch):
    """The department listens on 127.0.0.1; our HTTPS trusts its CA (REQUESTS_CA_BUNDLE, as requests reads it)."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files / "ca.pem"))
    dept = Department()
    with serving_tls(dept.app, tls_files, dept.server_names) as port:
        yield dept, port


@pytest.fixture
def rebinding_dns(monkeypatch):
    """A hostile DNS with TTL 0: NAME is public for the first question, our own machine for every later one."""
    real, asked = socket.getaddrinfo, []

    def resolve(host, port, *args, **kwargs):
        if host != NAME:
            return real(host, port, *args, **kwargs)
        asked.append(host)
        address = VETTED if len(asked) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return asked


@pytest.fixture
def connections(monkeypatch):
    """Where urllib3 opens its sockets. The vetted public address is never really dialled: tests stay local."""
    real, opened = urllib3.util.connection.create_connection, []

    def create_connection(address, *args, **kwargs):
        opened.append(address)
        if address[0] == VETTED:
            raise ConnectionRefusedError(f"test: not dialling {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return opened


def _call(url):
    return contract.call(url, KEY_ID, SECRET, "query", "gjj-progress", {"case_no": "1"}, None, FAST, allow_http=False)


def _health(url):
    result = contract.health_check(url, KEY_ID, SECRET, allow_http=False)
    assert not result.ok and result.problem.startswith("无法连接部门系统")
    raise UpstreamUnavailable("department", result.problem)


def _webhook(url):
    return post_event(url + "/events", KEY_ID, SECRET, b"{}", {"Idempotency-Key": "k-1"}, 1, allow_http=False)


# --- a name that rebinds ------------------------------------------------------------------------------------


@pytest.mark.parametrize("send", [_call, _health, _webhook], ids=["call", "health_check", "webhook"])
def test_a_name_that_rebinds_to_our_own_machine_is_still_called_at_the_vetted_address(
    department, rebinding_dns, connections, send
):
    dept, port = department
    with pytest.raises(UpstreamUnavailable) as failed:
        send(f"https://{NAME}:{port}/dept")
    assert connections == [(VETTED, port)], "connected to the vetted address, and only to it"
    assert rebinding_dns == [NAME], "the name was resolved once, for the check"
    assert dept.received == [] and dept.server_names == [], "the department on 127.0.0.1 was never reached"
    assert SECRET not in str(failed.value) and NAME in str(failed.value)  # the name for the operators, no secret


def test_without_pinning_the_same_dns_would_have_reached_our_own_machine(department, rebinding_dns, connections):
    # The attack is real: a plain request after a passing check follows the second answer to 127.0.0.1.
    dept, port = department
    assert contract.check_endpoint_url(f"https://{NAME}:{port}/dept", allow_http=False)
    assert requests.get(f"https://{NAME}:{port}/dept/health", timeout=FAST).status_code == 401  # unsigned
    assert connections == [(NAME, port)] and rebinding_dns == [NAME, NAME]
    assert dept.server_names == [NAME]


# --- pinned, and still TLS for the name ---------------------------------------------------------------------


@pytest.fixture
def vetted_loopback(monkeypatch):
    """The department's vetted address is 127.0.0.1 here (where it listens); any later lookup of NAME fails."""
    monkeypatch.setattr(endpoint_rules, "_public_address", lambda host, port: "127.0.0.1")
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):
        if host == NAME:
            raise socket.gaierror(socket.EAI_NONAME, "test: nobody may resolve the name again")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)


def test_a_pinned_call_speaks_tls_and_http_for_the_name_from_one_pool(department, vetted_loopback):
    dept, port = department
    url = f"https://{NAME}:{port}/dept"
    assert _call(url).result == {"status": "办理中"}
    assert contract.health_check(url, KEY_ID, SECRET, allow_http=False).ok
    assert _call(url).result == {"status": "办理中"}
    assert _webhook(url) == 204

    assert [r["path"] for r in dept.received] == ["/dept/", "/dept/health", "/dept/", "/dept/events"]
    assert {r["host"] for r in dept.received} == {f"{NAME}:{port}"}, "Host names the department, not the address"
    assert set(dept.server_names) == {NAME}, "SNI names the department"
    assert dept.received[-1]["idempotency_key"] == "k-1"
    # One pool for this address and name, kept by the thread's session (werkzeug closes every connection,
    # so reuse itself cannot be seen from the department here).
    pools = pinned_session().get_adapter(url).poolmanager.pools
    (key,) = [key for key in pools.keys() if key.key_port == port]  # noqa: SIM118 - urllib3 forbids iterating it
    assert (key.key_host, key.key_port, key.key_server_hostname, key.key_assert_hostname) == (
        "127.0.0.1",
        port,
        NAME,
        NAME,
    )
    assert pools[key].num_requests == 4


def test_the_certificate_must_be_for_the_registered_name(department, vetted_loopback):
    # Connected to the right address, but the name in the URL is not the one the certificate is for.
    dept, port = department
    with pytest.raises(UpstreamUnavailable, match="TLS handshake"):
        _call(f"https://other.example.test:{port}/dept")
    assert dept.received == []


def test_in_production_a_webhook_to_our_own_network_is_never_sent():
    with pytest.raises(UpstreamBadResponse, match="webhook URL refused: INTERNAL_ADDRESS"):
        post_event("https://127.0.0.1/events", KEY_ID, SECRET, b"{}", {}, 1, allow_http=False)


def test_outside_production_nothing_is_pinned():
    assert endpoint_rules.vet_endpoint("http://localhost:8081/dept/", allow_http=True).address is None
    assert endpoint_rules.vet_endpoint("https://8.8.8.8/dept", allow_http=False).address == "8.8.8.8"


@pytest.mark.parametrize(
    ("url", "address", "expected"),
    [
        ("https://gjj.example.cn/city/", "8.8.8.8", ("https://8.8.8.8/city/", "gjj.example.cn")),
        ("https://GJJ.example.cn:8443/city", "8.8.8.8", ("https://8.8.8.8:8443/city", "gjj.example.cn:8443")),
        ("https://gjj.example.cn/", "2001:4860::8888", ("https://[2001:4860::8888]/", "gjj.example.cn")),
        (
            "https://[2001:4860::8888]:444/x",
            "2001:4860::8888",
            ("https://[2001:4860::8888]:444/x", "[2001:4860::8888]:444"),
        ),
        ("https://公积金.example.cn/", "8.8.8.8", ("https://8.8.8.8/", "xn--55qp10hc3p.example.cn")),
    ],
)
def test_pin_puts_the_address_in_the_url_and_the_name_in_host(url, address, expected):
    assert pin(url, address) == expected
