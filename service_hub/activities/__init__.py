"""Community activities and residents' sign-ups."""
