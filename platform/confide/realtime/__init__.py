"""The end-customer and operator websockets and their fan-out over the broker."""
