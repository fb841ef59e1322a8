"""billbee-wemalo-reconcile: what the connector should have moved between Billbee and wemalo and has not."""
