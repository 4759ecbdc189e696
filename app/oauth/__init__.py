"""Department systems as OAuth2 clients: client credentials, hashed secrets, scopes, revocation."""
