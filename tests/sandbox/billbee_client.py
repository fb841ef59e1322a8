"""What the Billbee simulator's tests share: the API prefix, the first order id, the default credentials."""

from __future__ import annotations

import base64

from sandbox.billbee import DEFAULT_SETTINGS

API = "/api/v1"
ORDER_BASE = 300000180937794
AUTH = {
    "X-Billbee-Api-Key": DEFAULT_SETTINGS["api_key"],
    "Authorization": "Basic " + base64.b64encode(
        f"{DEFAULT_SETTINGS['username']}:{DEFAULT_SETTINGS['password']}".encode()).decode(),
}
