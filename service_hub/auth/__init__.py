"""Who is who: tokens, roles and the sign-in routes."""
