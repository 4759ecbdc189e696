"""Configured connectors to the clouds: stored settings, built instances, the operators' view."""
