"""The Billbee API's routes, one module per resource; each ``register`` adds its routes to the app."""
