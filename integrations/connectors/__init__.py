"""The connector framework: declared operations (base.py), signing styles (signing.py), and the guarded
call through breaker, cache and metrics (gateway.py)."""
