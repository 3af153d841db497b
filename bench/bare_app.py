"""The ceiling for the load benchmark: a bare Flask JSON endpoint, nothing else."""

from flask import Flask, request

app = Flask(__name__)


@app.get("/ping")
def ping():
    """The smallest useful JSON answer."""
    return {"status": "ok"}


@app.post("/ping")
def ping_post():
    """The smallest useful POST: reads the JSON body and answers 201
    (the claim benchmark's reference)."""
    return {"status": "ok", "body": request.get_json(silent=True) or {}}, 201
