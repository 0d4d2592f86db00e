import os
import subprocess
import sys
from pathlib import Path

from testing.utils import TEST_REDIS, free_port, live_redis_url, redis_up, require_service


def test_live(client):
    assert client.get("/health/live").json() == {"status": "ok"}


def test_ready_without_a_broker(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "not configured",
        "processes": "not supervised",
    }


def test_ready_with_a_real_broker(client, db, settings):
    require_service(redis_up(), f"Redis on {TEST_REDIS}")
    settings.CELERY_BROKER_URL = live_redis_url(10)
    response = client.get("/health/ready")
    assert response.status_code == 200 and response.json()["broker"] == "ok"


def test_not_ready_when_the_broker_is_unreachable(client, db, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable" and response.json()["broker"].startswith("error")
    assert response.json()["detail"].startswith("broker unreachable (error: ")


def test_check_deploy_is_clean_with_the_documented_production_settings(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bugsink.settings",
        "BUGSINK_DATA_DIR": str(tmp_path),
        # the production settings documented in the README
        "BASE_URL": "https://errors.example.com",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
        "SECURE_HSTS_PRELOAD": "true",
        "DATABASE_URL": "",
    }
    env.pop("SECRET_KEY", None)  # the generated one is long and random
    env.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
