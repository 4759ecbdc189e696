"""Before the tests: are PostgreSQL and Redis reachable? If not, say how to start them."""

import os
import socket
import sys
from urllib.parse import urlparse

DEFAULTS = {
    "TEST_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "TEST_REDIS_URL": "redis://127.0.0.1:6379/0",
}
HOW_TO_START = {
    "TEST_DATABASE_URL": "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start",
    "TEST_REDIS_URL": 'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no '
    "--dir /var/lib/redis --logfile /var/log/redis/ci.log",
}


def reachable(url: str) -> bool:
    parsed = urlparse(url)
    port = parsed.port or (5432 if parsed.scheme.startswith("postgres") else 6379)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


def main() -> int:
    missing = []
    for name, default in DEFAULTS.items():
        url = os.environ.get(name, default)
        if not reachable(url):
            missing.append(name)
            print(f"{name}: nothing answers at {url}", file=sys.stderr)
            print(f"  start it with: {HOW_TO_START[name]}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
