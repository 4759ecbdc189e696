from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from app.clock import local, utcnow
from app.identity.policy import public
from app.version import VERSION, git_commit

blp = Blueprint("status", __name__, url_prefix="/api/v1/status", description="What is running")


class StatusSchema(ma.Schema):
    name = ma.fields.String(required=True)
    version = ma.fields.String(required=True)
    commit = ma.fields.String(required=True)
    environment = ma.fields.String(required=True)
    sandbox = ma.fields.Boolean(required=True)
    time = ma.fields.DateTime(required=True, metadata={"description": "now, Asia/Shanghai with offset"})


@blp.route("")
class Status(MethodView):
    @public
    @blp.response(200, StatusSchema)
    def get(self):
        """Version and git commit of this server"""
        config = current_app.config
        return {
            "name": "zz-city-services",
            "version": VERSION,
            "commit": git_commit(config["GIT_COMMIT"]),
            "environment": config["APP_ENV"],
            "sandbox": config["SANDBOX"],
            "time": local(utcnow()),
        }
