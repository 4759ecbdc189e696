"""OpenAPI for the channels' notifications: their bodies are the channels' formats, read raw (a signature
covers the exact bytes), so they are documented here rather than loaded through a schema."""

_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_FAIL_BODY = {"type": "object", "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}
_FAIL = {"application/json": {"schema": _FAIL_BODY}}
_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
            "Wechatpay-Signature-Type")  # fmt: skip

WECHAT_NOTIFY_DOC = {
    "summary": "WeChat Pay's notification: signed headers over the raw body, the resource AES-GCM encrypted",
    "parameters": [{"in": "header", "name": name, "required": True, "schema": {"type": "string"}} for name in _HEADERS],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["id", "event_type", "resource_type", "resource"],
                    "properties": {
                        "id": {"type": "string"},
                        "create_time": {"type": "string"},
                        "event_type": {"type": "string", "example": "TRANSACTION.SUCCESS"},
                        "resource_type": {"type": "string", "example": "encrypt-resource"},
                        "summary": {"type": "string"},
                        "resource": {
                            "type": "object",
                            "required": ["algorithm", "ciphertext", "nonce"],
                            "properties": {
                                "algorithm": {"type": "string"},
                                "ciphertext": {"type": "string"},
                                "nonce": {"type": "string"},
                                "associated_data": {"type": "string"},
                                "original_type": {"type": "string"},
                            },
                        },
                    },
                }
            }
        },
    },
    "responses": {
        "204": {"description": "taken (paid, a repeat, or recorded as a discrepancy)"},
        "400": {"description": "another app or merchant, or an incomplete resource: WeChat retries", "content": _FAIL},
        "401": {"description": "signature, key id or timestamp not WeChat Pay's: refused", "content": _FAIL},
    },
}

_ALIPAY_FIELDS = ("notify_id", "app_id", "out_trade_no", "trade_no", "trade_status", "total_amount", "seller_id",
                  "sign_type", "sign")  # fmt: skip
ALIPAY_NOTIFY_DOC = {
    "summary": "Alipay's asynchronous notification: a form, RSA2-signed over its sorted fields",
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": list(_ALIPAY_FIELDS),
                    "properties": {name: {"type": "string"} for name in _ALIPAY_FIELDS}
                    | {"gmt_payment": {"type": "string"}, "buyer_id": {"type": "string"}},
                }
            }
        },
    },
    "responses": {
        "200": {"description": "the text success: taken", "content": _TEXT},
        "400": {"description": "the text fail: another app or seller, or unreadable fields", "content": _TEXT},
        "401": {"description": "the text fail: the signature is not Alipay's", "content": _TEXT},
    },
}
