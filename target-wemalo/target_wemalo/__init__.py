"""Singer target for wemalo-connect."""
