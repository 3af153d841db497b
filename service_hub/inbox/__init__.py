"""A resident's in-app notifications."""
