"""Singer target for Billbee."""
