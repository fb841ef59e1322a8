"""Singer tap for wemalo-connect shipments and stock."""
