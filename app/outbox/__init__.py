"""Transactional outbox: messages written with the caller's data, delivered after commit."""
