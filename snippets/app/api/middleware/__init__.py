"""Pure ASGI middleware for concerns every response shares."""
