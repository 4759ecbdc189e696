"""Connectors to the city's cloud platforms (政务云) and what runs on them."""
