"""The ceiling for the load benchmark: a bare Flask JSON endpoint, nothing else."""

from flask import Flask

app = Flask(__name__)


@app.get("/ping")
def ping():
    """The smallest useful JSON answer."""
    return {"status": "ok"}
