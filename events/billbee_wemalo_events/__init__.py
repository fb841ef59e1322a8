"""billbee-wemalo-events: Billbee and wemalo webhooks received, queued durably and handled by the narrowest
Meltano job (see events/README.md)."""
