"""The SMS provider (短信服务): verification codes and notices to citizens' phones, plus its sandbox twin."""
