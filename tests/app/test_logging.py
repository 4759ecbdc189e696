import io
import json
import logging
import os

from app.observability.batching import BatchingStreamHandler
from app.observability.logging import RequestIdFilter, json_formatter


def capture(logger_name: str):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(RequestIdFilter())
    logging.getLogger(logger_name).addHandler(handler)
    return stream, handler


def test_every_request_leaves_one_json_access_line(client):
    stream, handler = capture("app.access")
    try:
        client.get("/api/v1/departments/nope", headers={"X-Request-ID": "line-1"})
    finally:
        logging.getLogger("app.access").removeHandler(handler)
    (line,) = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["request_id"] == "line-1"
    assert line["route"] == "/api/v1/departments/<string:code>"
    assert line["path"] == "/api/v1/departments/nope"
    assert line["status"] == 404 and line["method"] == "GET"
    assert line["duration_ms"] >= 0 and line["level"] == "INFO"


def test_batching_handler_writes_in_batches_and_loses_nothing_on_flush():
    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, max_bytes=300, max_delay=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.batching")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(3):
            logger.warning("line %d %s", n, "x" * 20)
        assert stream.getvalue() == "", "small lines wait for the batch"
        for n in range(3, 20):
            logger.warning("line %d %s", n, "x" * 20)
        assert 0 < stream.getvalue().count("\n") < 20, "a full batch is written"
        handler.flush()
        assert [line.split()[1] for line in stream.getvalue().splitlines()] == [str(n) for n in range(20)]
    finally:
        logger.removeHandler(handler)


def test_batching_handler_writes_a_line_older_than_the_delay():
    stream = io.StringIO()
    handler = BatchingStreamHandler(stream, max_bytes=10**6, max_delay=0)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(logging.makeLogRecord({"msg": "now"}))
    assert stream.getvalue() == "now\n"


def test_gunicorns_own_lines_still_carry_the_process_id_once_our_logging_is_set_up(app):
    # The app sets logging up in every worker; gunicorn then logs "Worker exiting" with its own format.
    from gunicorn.glogging import Logger

    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Worker exiting (pid: %s)", (42,), None)
    line = logging.Formatter(Logger.error_fmt).format(record)
    assert f"[{os.getpid()}] [INFO] Worker exiting (pid: 42)" in line


def test_the_access_line_formatter_writes_what_the_general_one_would():
    from app.observability.logging import AccessLineFormatter

    record = logging.LogRecord("app.access", logging.INFO, "", 0, "request", None, None)
    fields = {"request_id": "r-1", "method": "POST", "route": "/api/v1/services/<code>/query", "status": 200}
    fields |= {"path": "/api/v1/services/气/query", "duration_ms": 1.5, "remote_addr": "10.0.0.1"}
    record.__dict__.update(fields)
    fast, general = AccessLineFormatter(), json_formatter()
    assert json.loads(fast.format(record)) == json.loads(general.format(record))
    assert "气" in fast.format(record), "UTF-8 as it is, not escaped"
    later = logging.LogRecord("app.access", logging.INFO, "", 0, "request", None, None)
    later.created, later.msecs = record.created + 1, 7
    later.__dict__.update(fields)
    assert json.loads(fast.format(later))["time"] == json.loads(general.format(later))["time"], "a second later"
