"""flask-smorest Api whose errors are the one envelope, documented as such."""

from flask_smorest import Api

from app.errors import ErrorEnvelopeSchema, http_error_response


class CityApi(Api):
    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error):
        return http_error_response(error)
