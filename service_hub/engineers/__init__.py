"""Engineers' profiles as a personal brand, and managers' administration of them."""
