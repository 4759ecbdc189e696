"""Inquiry (查询): citizens run live inquiry services."""
