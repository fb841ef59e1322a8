"""Simulator of the wemalo-connect v1 API (see app.py, the store/ package, spec.py)."""

from sandbox.wemalo.app import create_app

__all__ = ["create_app"]
