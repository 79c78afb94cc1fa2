"""Shared pytest set-up: the claims plugin (marker, --claim/--note, reports/claims.json)."""

pytest_plugins = ["notes_code.kb.pytest_claims"]
