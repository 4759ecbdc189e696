"""WeChat Pay API v3: the client (integrations.wechatpay.client) and its twin (integrations.wechatpay.sandbox)."""
