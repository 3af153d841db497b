"""Communities, residents' bindings to them, and the service catalogue."""
