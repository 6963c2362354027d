"""Headers and settings for production: `check --deploy` is clean with the compose
environment; every response carries a strict Content-Security-Policy (the card page adds
exactly Stripe's origins), Permissions-Policy, Referrer-Policy, HSTS over HTTPS; no
template the site can render has an inline script or an on* attribute."""

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.template import engines

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_VAR = re.compile(r"\$\{(?P<name>[A-Z_]+)(?::(?P<op>[-?])(?P<rest>[^}]*))?\}")


def compose_environment() -> dict[str, str]:
    """The web service's environment as docker compose gives it, with the variables the
    operator must set (`${X:?…}`) given random values and the others their defaults."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    required = {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PERSONAL_DATA_KEY": secrets.token_urlsafe(50),
        "TRACE_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
    }

    def substitute(match):
        name, op, rest = match["name"], match["op"], match["rest"]
        if op == "?":
            return required[name]
        return rest if op == "-" else ""

    environment = compose["services"]["web"]["environment"]
    return {key: COMPOSE_VAR.sub(substitute, str(value)) for key, value in environment.items()}


def test_check_deploy_is_clean_with_the_compose_environment():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        **compose_environment(),
    }
    assert env["DEBUG"] == "0" and env["SECURE_COOKIES"] == "1"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.django_db
def test_every_page_has_a_strict_csp_and_the_security_headers(client, demo):
    response = client.get("/", secure=True)
    assert response.status_code == 200
    csp = {
        part.split()[0]: part.split()[1:]
        for part in response["Content-Security-Policy"].split("; ")
    }
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "stripe" not in response["Content-Security-Policy"]
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=()" in response["Permissions-Policy"]
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    # Over plain HTTP, no HSTS (browsers ignore it there anyway).
    assert "Strict-Transport-Security" not in client.get("/")


@pytest.mark.django_db
def test_cookies_are_secure_with_debug_off(client, demo, settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE
    response = client.get("/accounts/login/", secure=True)
    assert response.cookies["csrftoken"]["secure"] is True


# --- No inline script in any template the site can render ------------------------------------

INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*\btype=[\"']application/(?:ld\+)?json[\"'])[^>]*>", re.I
)
ON_ATTRIBUTE = re.compile(r"<[a-z][^>]*?\s(on[a-z]+)\s*=", re.I | re.S)
JS_URL = re.compile(r"""(?:href|src|action)\s*=\s*["']\s*javascript:""", re.I)
ONBODYLOAD_RENDERED = re.compile(r"<script>\s*\$\(function\(\)\s*\{\s*\{% block onbodyload")


def effective_templates() -> dict[str, list[Path]]:
    """{template name: the files it renders}: the first file of that name in the loaders'
    order, plus the files a template extending its own name reaches."""
    engine = engines["django"].engine
    directories = []
    for loader in engine.template_loaders:
        for inner in getattr(loader, "loaders", [loader]):
            directories += [Path(d) for d in inner.get_dirs()]
    found: dict[str, list[Path]] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in directory.rglob("*.html"):
            found.setdefault(str(path.relative_to(directory)), []).append(path)
    effective = {}
    for name, paths in found.items():
        chain = [paths[0]]
        for later in paths[1:]:
            if f'{{% extends "{name}" %}}' in chain[-1].read_text(errors="ignore") or (
                f"{{% extends '{name}' %}}" in chain[-1].read_text(errors="ignore")
            ):
                chain.append(later)
            else:
                break
        effective[name] = chain
    return effective


def test_no_template_has_an_inline_script_or_an_on_attribute():
    offenders = []
    templates = effective_templates()
    assert len(templates) > 300  # the project's, Oscar's, Django's admin, axes …
    for name, files in templates.items():
        for path in files:
            text = path.read_text(errors="ignore")
            for pattern in (INLINE_SCRIPT, ON_ATTRIBUTE, JS_URL, ONBODYLOAD_RENDERED):
                for match in pattern.finditer(text):
                    offenders.append(f"{name} ({path}): {match.group(0)[:60]!r}")
    assert offenders == []


def test_the_base_template_loads_the_start_up_script_instead_of_inline_code(client, db):
    html = client.get("/accounts/login/").content.decode()
    assert "/static/nongsan/js/page.js" in html
    assert not INLINE_SCRIPT.search(html)
    assert not ON_ATTRIBUTE.search(html)
