"""WSGI entry point: gunicorn wsgi:app."""

from service_hub import create_app

app = create_app()
