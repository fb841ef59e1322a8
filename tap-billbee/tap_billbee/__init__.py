"""Singer tap for Billbee."""
