"""deploy/: the systemd units, the Procfile and the nginx site start and serve what the docs say.

`systemd-analyze verify` checks the units as systemd would load them; nginx's own `nginx -t`
checks the site where nginx is installed. The rest reads the files and compares them with the
documented processes (README.md, docs/operations.md) and with the app's own settings.
"""

from __future__ import annotations

import configparser
import http
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from gunicorn.app.wsgiapp import WSGIApplication
from rq import Queue
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from service_hub.plumbing.config import check_config, load_config
from service_hub.plumbing.errors import message_zh_for
from service_hub.uploads import routes as upload_routes
from service_hub.uploads import storage
from service_hub.uploads.images import CONTENT_TYPES
from tests.test_production_recipe import (
    _ConfigOnly,
    _operations_process_commands,
    _readme_production_commands,
)

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
INSTALL_DIR = "/opt/service-hub"
ENV_FILE = "/etc/service-hub/service-hub.env"
TARGET = "service-hub.target"
BACKUP_UNIT = "service-hub-backup.service"
PROCESS_UNITS = sorted(
    path.name for path in UNITS.glob("service-hub-*.service") if path.name != BACKUP_UNIT
)
NGINX_SITE = DEPLOY / "nginx" / "service-hub.conf"


def _unit(name: str) -> configparser.ConfigParser:
    """A unit file as sections of keys; a key given twice keeps its values joined by newlines."""
    parser = configparser.ConfigParser(
        strict=False, interpolation=None, comment_prefixes=("#", ";"), delimiters=("=",)
    )
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(_merge_repeated_keys((UNITS / name).read_text(encoding="utf-8")))
    return parser


def _merge_repeated_keys(text: str) -> str:
    """configparser refuses a key given twice in a section; systemd appends. Number them."""
    seen: dict[tuple[str, str], int] = {}
    section, lines = "", []
    for line in text.splitlines():
        if line.startswith("["):
            section = line
        elif "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            count = seen.get((section, key), 0)
            seen[(section, key)] = count + 1
            if count:
                line = f"{key}#{count}={value}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _exec_start(name: str) -> str:
    """The unit's command as the docs write it: without the install directory's .venv/bin/."""
    command = _unit(name)["Service"]["ExecStart"]
    return command.removeprefix(f"{INSTALL_DIR}/.venv/bin/")


def _env_example() -> dict[str, str]:
    """KEY=value lines of the environment file, commented-out optional ones included."""
    pairs = {}
    for line in (DEPLOY / "service-hub.env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"#? ?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            pairs.setdefault(match[1], match[2])
    return pairs


def _skip_or_fail(reason: str, *, in_ci: bool = True) -> None:
    print(reason)
    if in_ci and os.environ.get("CI"):
        pytest.fail(f"CI must run this check: {reason}")
    pytest.skip(reason)


# --- systemd -------------------------------------------------------------------------------


def _verifiable_copies(directory: Path) -> list[Path]:
    """The units with the install directory pointed at this checkout and its virtualenv, so
    that every command they start exists here (systemd-analyze checks that)."""
    copies = []
    for path in sorted(UNITS.iterdir()):
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"{INSTALL_DIR}/.venv/bin", str(Path(sys.executable).parent))
        text = text.replace(INSTALL_DIR, str(ROOT))
        text = text.replace(ENV_FILE, str(DEPLOY / "service-hub.env.example"))
        copy = directory / path.name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


def test_systemd_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not os.access(analyze, os.X_OK):
        _skip_or_fail("systemd-analyze not found: cannot verify deploy/systemd")
    copies = _verifiable_copies(tmp_path)
    result = subprocess.run(
        [analyze, "verify", "--man=no", *map(str, copies)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (result.stdout + result.stderr).strip()
    print(f"systemd-analyze verify exited {result.returncode}; output:\n{output or '(none)'}")
    names = [copy.name for copy in copies]
    problems = [
        line
        for line in output.splitlines()
        if "error" in line.lower() or any(name in line for name in names)
    ]
    assert (result.returncode, problems) == (0, [])


def test_units_start_exactly_the_documented_processes():
    documented = _operations_process_commands()
    started = [_exec_start(name) for name in PROCESS_UNITS]
    assert sorted(started) == sorted(documented)
    assert set(started) <= _readme_production_commands()


def test_target_groups_every_process_unit():
    target = _unit(TARGET)
    assert sorted(target["Unit"]["Wants"].split()) == PROCESS_UNITS
    for name in PROCESS_UNITS:
        unit = _unit(name)
        assert (unit["Unit"]["PartOf"], unit["Install"]["WantedBy"]) == (TARGET, TARGET), name


@pytest.mark.parametrize("name", [*PROCESS_UNITS, BACKUP_UNIT])
def test_unit_runs_hardened_as_the_service_user_from_the_install_directory(name):
    service = _unit(name)["Service"]
    expected = {
        "User": "service-hub",
        "WorkingDirectory": INSTALL_DIR,
        "EnvironmentFile": ENV_FILE,
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "CapabilityBoundingSet": "",
    }
    assert {key: service.get(key) for key in expected} == expected


@pytest.mark.parametrize("name", PROCESS_UNITS)
def test_long_running_unit_is_restarted_whatever_its_exit(name):
    # `flask worker --max-jobs N` exits 0 to be replaced: on-failure would leave it stopped.
    assert _unit(name)["Service"]["Restart"] == "always"


def test_web_unit_stops_gunicorn_gracefully_within_its_graceful_timeout(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # gunicorn.conf.py sets it
    service = _unit("service-hub-web.service")["Service"]
    graceful = _ConfigOnly(ROOT / "gunicorn.conf.py").cfg.graceful_timeout
    assert (service["KillSignal"], service["KillMode"]) == ("SIGTERM", "mixed")
    assert int(service["TimeoutStopSec"]) > graceful


@pytest.mark.parametrize("name", [n for n in PROCESS_UNITS if "-worker-" in n])
def test_worker_unit_lets_the_running_job_finish_before_killing(name):
    # RQ's warm shutdown: TERM to the main process only; the job may run to its time-out.
    service = _unit(name)["Service"]
    assert (service["KillSignal"], service["KillMode"]) == ("SIGTERM", "mixed")
    assert int(service["TimeoutStopSec"]) > Queue.DEFAULT_TIMEOUT


def _environment(service) -> dict[str, str]:
    """The unit's Environment= assignments (every line of them)."""
    pairs = {}
    for key in service:
        if key == "Environment" or key.startswith("Environment#"):
            pairs.update(pair.split("=", 1) for pair in shlex.split(service[key]))
    return pairs


def test_web_unit_moves_gunicorns_control_socket_out_of_the_read_only_checkout(
    monkeypatch, tmp_path
):
    service = _unit("service-hub-web.service")["Service"]
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))  # gunicorn.conf.py sets it
    monkeypatch.setenv("GUNICORN_CMD_ARGS", _environment(service)["GUNICORN_CMD_ARGS"])
    monkeypatch.setattr(sys, "argv", shlex.split(_exec_start("service-hub-web.service")))
    monkeypatch.chdir(ROOT)
    cfg = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg  # gunicorn's own precedence
    runtime = [f"/run/{directory}" for directory in service["RuntimeDirectory"].split()]
    assert str(Path(cfg.control_socket).parent) in runtime


def test_web_unit_may_write_the_uploads_directory_the_environment_file_names():
    service = _unit("service-hub-web.service")["Service"]
    assert service["ReadWritePaths"] == _env_example()["UPLOAD_DIR"]


def test_backup_script_is_executable():
    command = _unit(BACKUP_UNIT)["Service"]["ExecStart"]
    assert os.access(ROOT / command.removeprefix(INSTALL_DIR + "/"), os.X_OK)


# --- Procfile and the environment file ----------------------------------------------------


def _procfile() -> dict[str, str]:
    processes = {}
    for line in (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines():
        name, command = line.split(":", 1)
        # Leading VAR=value words set the environment; the process is what follows.
        words = command.split()
        while words and re.match(r"[A-Z_]+=", words[0]):
            words.pop(0)
        assert name not in processes
        processes[name] = " ".join(words)
    return processes


def test_procfile_starts_exactly_the_documented_processes():
    assert sorted(_procfile().values()) == sorted(_operations_process_commands())


def test_procfile_web_binds_the_port_the_runner_assigns():
    line = (DEPLOY / "Procfile").read_text(encoding="utf-8").splitlines()[0]
    assert line.startswith("web: BIND=0.0.0.0:${PORT")


def _settings_read_by(path: Path) -> set[str]:
    text = path.read_text(encoding="utf-8")
    calls = r"(?:env\.get|environ\.get|environ\.setdefault|_number|_json_object)"
    pattern = calls + r'\(\s*(?:env,\s*)?"([A-Z_]+)"'
    return set(re.findall(pattern, text))


def test_environment_file_names_every_setting_the_service_reads():
    read = _settings_read_by(ROOT / "service_hub" / "plumbing" / "config.py")
    read |= _settings_read_by(ROOT / "gunicorn.conf.py")
    assert len(read) > 30  # the pattern still finds config.py's settings
    assert sorted(read - set(_env_example())) == []


def _systemd_value(raw: str) -> str:
    """A value as systemd's EnvironmentFile reads it: quotes count only around a whole value
    (src/basic/env-file.c), and the file uses no backslashes."""
    assert "\\" not in raw
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    assert not raw.startswith(("'", '"')), raw
    return raw


def test_environment_file_filled_in_is_a_configuration_the_app_accepts():
    # Optional settings included, as written (commented out) in the file.
    env = {key: _systemd_value(value) for key, value in _env_example().items()}
    env["SECRET_KEY"] = "0123456789abcdef" * 4
    env["METRICS_TOKEN"] = "metrics-token-0123456789"
    config = load_config(env)
    check_config(config)
    assert config["DISPATCH_WEIGHTS"]["standing"] == 0.45  # a JSON value survived the quoting


def test_environment_file_is_for_production_behind_one_proxy():
    env = _env_example()
    assert (env["SERVICE_HUB_ENV"], env["PROXY_HOPS"]) == ("production", "1")
    assert env["BIND"].startswith("127.0.0.1:")


# --- nginx ---------------------------------------------------------------------------------


def _nginx() -> str:
    return NGINX_SITE.read_text(encoding="utf-8")


def _directive(name: str) -> list[str]:
    """The values of a directive, each up to its `;` (quoted strings may hold `;`)."""
    return re.findall(rf"^\s*{name}\s+((?:\"[^\"]*\"|'[^']*'|[^;\"'])+);", _nginx(), re.M)


def test_nginx_body_limit_is_the_apps_largest_request_body():
    limit = _directive("client_max_body_size")
    assert limit == ["20m"]
    default = load_config({})["MAX_CONTENT_LENGTH"]
    assert 20 * 1024 * 1024 == default == int(_env_example()["MAX_CONTENT_LENGTH"])


def test_nginx_passes_the_forwarded_headers_proxy_hops_1_trusts():
    headers = dict(value.split(None, 1) for value in _directive("proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$proxy_add_x_forwarded_for"
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-Host"] == "$host"


def test_proxy_hops_1_finds_the_client_nginx_saw_even_behind_a_forged_header():
    # What gunicorn receives from this nginx: the client forged X-Forwarded-For, nginx
    # appended the address it saw ($proxy_add_x_forwarded_for).
    seen = {}

    def app(environ, start_response):
        request = Request(environ)
        seen.update(addr=request.remote_addr, scheme=request.scheme, host=request.host)
        start_response("204 No Content", [])
        return []

    hops = int(_env_example()["PROXY_HOPS"])
    wrapped = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)  # as create_app does
    environ = EnvironBuilder(
        path="/api/v1/auth/staff-login",
        base_url="http://127.0.0.1:8000",
        headers={
            "X-Forwarded-For": "10.9.9.9, 203.0.113.7",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "hub.example.com",
        },
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
    ).get_environ()
    wrapped(environ, lambda *args: None)
    assert seen == {"addr": "203.0.113.7", "scheme": "https", "host": "hub.example.com"}


def _media_location() -> tuple[re.Pattern, str, str]:
    match = re.search(
        r'location ~ "(?P<regex>\^/media/[^"]+)" \{(?P<body>.*?)\n    \}', _nginx(), re.S
    )
    regex = re.compile(match["regex"].replace("(?<", "(?P<"))
    root = re.search(r"root\s+([^;]+);", match["body"])[1]
    try_first = re.search(r"try_files\s+(\S+)", match["body"])[1]
    return regex, root, try_first


def test_nginx_serves_each_media_url_from_the_file_the_app_stores():
    regex, root, try_first = _media_location()
    flask_app = Flask(__name__)
    flask_app.config.update(UPLOAD_DIR=root, UPLOAD_URL_PREFIX="/media/")
    sha = "ab" + "0123456789abcdef" * 3 + "0123456789abcd"
    with flask_app.app_context():
        for extension in CONTENT_TYPES:
            name = storage.media_name(sha, extension)
            url = flask_app.config["UPLOAD_URL_PREFIX"] + name
            groups = regex.fullmatch(url).groupdict()
            served = root + re.sub(r"\$(\w+)", lambda m, g=groups: g[m[1]], try_first)
            assert served == str(storage.media_path(name)), extension
    assert regex.fullmatch("/media/../" + sha[4:] + ".jpg") is None


def test_nginx_media_headers_are_the_apps():
    headers = dict(
        re.match(r'(\S+)\s+"([^"]*)"', value).groups()
        for value in _directive("add_header")
        if value.startswith(("Cache-Control", "X-Content-Type-Options", "Content-Security"))
    )
    assert headers == {
        "Cache-Control": f"public, max-age={upload_routes.MEDIA_CACHE_SECONDS}, immutable",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }


@pytest.mark.parametrize("status", [413, 503])
def test_nginx_own_refusals_are_in_the_one_error_shape(status):
    body = re.search(rf"return {status} '([^']+)';", _nginx())[1]
    error = json.loads(body)["error"]
    assert error["code"] == http.HTTPStatus(status).name.lower()
    assert error["message_zh"] == message_zh_for(status)


def test_nginx_accepts_the_site(tmp_path):
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        _skip_or_fail("nginx is not installed: `nginx -t` not run on deploy/nginx", in_ci=False)
    openssl = shutil.which("openssl")
    if openssl is None:
        _skip_or_fail("openssl is not installed: no certificate for `nginx -t`", in_ci=False)
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=hub.example.com", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = _nginx().replace("/etc/ssl/certs/hub.example.com.pem", str(cert))
    site = site.replace("/etc/ssl/private/hub.example.com.key", str(key))
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    temp_paths = " ".join(  # inside tmp_path, so that nginx -t need not create system paths
        f"{kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ {mime} access_log off; {temp_paths} include {tmp_path}/site.conf; }}\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    print(result.stdout + result.stderr)
    assert result.returncode == 0
