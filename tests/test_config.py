"""Settings from the environment, and the refusal to run production on a weak secret."""

import pytest

from service_hub import create_app
from service_hub.plumbing.config import DEV_SECRET_KEY, ConfigError, load_config


def _production(tmp_path, **overrides) -> dict:
    return {
        "SERVICE_HUB_ENV": "production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'production.db'}",
        "REDIS_URL": None,
        "INPROCESS_TIMERS": False,  # no periodic work against this empty database
        **overrides,
    }


def test_production_refuses_to_start_with_the_dev_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:
        create_app(_production(tmp_path, SECRET_KEY=DEV_SECRET_KEY))
    assert "secrets.token_hex" in str(refused.value)


def test_production_refuses_to_start_without_a_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app(_production(tmp_path))


def test_production_refuses_to_start_with_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="at least 32 characters"):
        create_app(_production(tmp_path, SECRET_KEY="s" * 31))


def test_production_starts_with_a_64_character_secret_key(tmp_path):
    secret = "0123456789abcdef" * 4
    app = create_app(_production(tmp_path, SECRET_KEY=secret))
    assert app.config["SERVICE_HUB_ENV"] == "production"
    assert app.config["SECRET_KEY"] == secret


def test_load_config_defaults_secret_key_to_the_dev_one_that_production_refuses():
    config = load_config(environ={"SERVICE_HUB_ENV": "development"})
    assert config["SECRET_KEY"] == DEV_SECRET_KEY


@pytest.mark.parametrize(
    "url",
    [
        "postgres://hub:pw@db.example:5432/hub",
        "postgresql://hub:pw@db.example:5432/hub",
    ],
)
def test_postgres_database_urls_are_normalised_to_psycopg(url):
    config = load_config(environ={"SERVICE_HUB_ENV": "testing", "DATABASE_URL": url})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://hub:pw@db.example:5432/hub"


def test_an_explicit_psycopg_database_url_is_kept():
    url = "postgresql+psycopg://hub@db.example/hub"
    config = load_config(environ={"SERVICE_HUB_ENV": "testing", "DATABASE_URL": url})
    assert config["SQLALCHEMY_DATABASE_URI"] == url


def test_without_database_and_redis_urls_the_embedded_default_is_used(tmp_path):
    config = load_config(environ={"SERVICE_HUB_ENV": "development"}, instance_path=str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'service_hub.db'}"
    assert config["REDIS_URL"] is None


def test_an_unknown_service_hub_env_is_refused():
    with pytest.raises(ConfigError, match="SERVICE_HUB_ENV") as refused:
        load_config(environ={"SERVICE_HUB_ENV": "staging"})
    assert "'staging'" in str(refused.value)


def test_service_hub_env_defaults_to_production():
    assert load_config(environ={})["SERVICE_HUB_ENV"] == "production"


def test_timezone_defaults_to_shanghai():
    assert load_config(environ={})["TIMEZONE"] == "Asia/Shanghai"


def test_timezone_can_be_set_from_the_environment():
    assert load_config(environ={"TIMEZONE": "Asia/Urumqi"})["TIMEZONE"] == "Asia/Urumqi"


def test_a_testing_app_runs_no_periodic_work_behind_the_tests_back(app):
    quiet = create_app(
        {
            "SERVICE_HUB_ENV": "testing",
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "REDIS_URL": None,
        }
    )
    assert quiet.extensions["job_queue"]._scheduled == []  # nothing armed to run later


def test_an_unknown_dispatch_weight_is_refused():
    # `composite` was the standing's old name (docs/api-changes.md): silently ignoring it would
    # dispatch on the default standing weight instead of the one the deployment set.
    with pytest.raises(ConfigError, match="DISPATCH_WEIGHTS") as refused:
        load_config(environ={"DISPATCH_WEIGHTS": '{"composite": 0.6}'})
    assert "'composite'" in str(refused.value)
