"""Liveness and readiness."""

from service_hub import create_app


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_reports_database_and_queue_ready(client, app):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": True, "queue": True}
    expected_kind = "rq" if app.config["BACKEND"] == "postgres-redis" else "in-process"
    assert response.json["queue_kind"] == expected_kind


def test_readyz_is_503_when_redis_is_unreachable(app, tmp_path):
    broken = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": "redis://127.0.0.1:1/0",
        }
    )
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["queue"] is False
    assert response.json["checks"]["database"] is True
