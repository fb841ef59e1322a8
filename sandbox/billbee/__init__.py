"""Billbee API v1 simulator: ``create_app()`` builds the Flask app, ``BillbeeStore`` holds the account data."""

from sandbox.billbee.app import DEFAULT_SETTINGS, create_app
from sandbox.billbee.store import BillbeeStore

__all__ = ["DEFAULT_SETTINGS", "BillbeeStore", "create_app"]
