"""Web views served by the backend: the managers' dashboard and the engineers' mobile view."""
