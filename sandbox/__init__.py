"""Local simulators of the Billbee and wemalo APIs, for tests and demos (see sandbox/core.py)."""
