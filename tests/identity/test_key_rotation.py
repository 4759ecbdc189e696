import base64
import json
import os

import sqlalchemy as sa

from app.extensions import db
from tests.identity.helpers import bearer, login_wechat
from tests.identity.test_personal_data import PERSON


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def stored_key_ids(app) -> set[str]:
    with app.app_context():
        rows = db.session.execute(sa.text("SELECT phone, real_name, id_number FROM citizens")).all()
    return {value.split(":")[0] for row in rows for value in row if value}


def test_keys_rotate_re_encrypts_under_the_active_key_and_data_still_reads(make_app, sandbox_url):
    old, new, hash_key = key(), key(), key()
    before = make_app(PII_KEYS=json.dumps({"p1": old}), PII_HASH_KEY=hash_key)
    client = before.test_client()
    token = login_wechat(client, sandbox_url)["access_token"]
    assert client.put("/api/v1/me/real-name", json=PERSON, headers=bearer(token)).status_code == 200
    assert stored_key_ids(before) == {"p1"}

    after = make_app(PII_KEYS=json.dumps({"p1": old, "p2": new}), PII_ACTIVE_KID="p2", PII_HASH_KEY=hash_key)
    result = after.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "citizens.id_number: 1 re-encrypted" in result.output
    assert stored_key_ids(after) == {"p2"}
    # A second run finds nothing left to do, in any encrypted column.
    again = after.test_cli_runner().invoke(args=["keys", "rotate"]).output
    assert again.count(": 0 re-encrypted") == len(again.splitlines()) >= 3

    retired = make_app(PII_KEYS=json.dumps({"p2": new}), PII_HASH_KEY=hash_key)
    me = retired.test_client().get("/api/v1/me", headers=bearer(token))
    assert me.status_code == 200 and me.json["real_name"] == PERSON["name"][0] + "*"
