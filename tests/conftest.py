"""Test fixtures: a real database (SQLite file, or PostgreSQL from TEST_DATABASE_URL) built by
`alembic upgrade head`, a private redis-server on a free port, and factories for shop data."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from decimal import Decimal

import pytest
from flask import got_request_exception, request
from flask_migrate import upgrade
from redis import Redis
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from webapp import create_app
from webapp.auth.models import User
from webapp.auth.tokens import create_api_token
from webapp.catalog.models import Product
from webapp.catalog.stock import receive_stock
from webapp.extensions import db


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing():
    """Argon2id with its cheapest parameters: the same code path, a fraction of the time per test."""
    from argon2 import PasswordHasher, profiles

    from webapp.auth import models

    production = models._hasher
    models._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    yield
    models._hasher = production


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """A private redis-server for the whole session; tests never touch a shared one."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed; `make test` installs it")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(workdir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    else:
        process.kill()
        pytest.fail("the test redis-server did not start")
    yield {"url": url, "port": port, "process": process}
    process.terminate()
    process.wait(timeout=10)


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, redis_server):
    """The test database, built once per session by the Alembic migrations (not create_all)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        _reset_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": redis_server["url"], "SECRET_KEY": "t"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


class ServerErrors(list):
    """500 responses seen during a test; the suite fails on any of them."""


@pytest.fixture
def server_errors():
    return ServerErrors()


@pytest.fixture
def make_app(database_url, redis_server, server_errors):
    """Build app instances on the test database; every table is emptied after the test."""
    apps = []

    def build(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": redis_server["url"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": None,
            "DISPATCH_MARK_SECONDS": 0,
        }
        config.update(overrides)
        app = create_app(config)

        @app.after_request
        def _record_server_errors(response):
            if response.status_code == 500:
                server_errors.append(f"500 from {request.method} {request.path}")
            return response

        def _record_exception(sender, exception, **extra):
            server_errors.append(f"{type(exception).__name__} in {request.method} {request.path}: {exception}")

        got_request_exception.connect(_record_exception, app, weak=False)

        apps.append(app)
        return app

    yield build
    if apps:
        with apps[0].app_context():
            _empty_tables()
        for app in apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def _empty_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    db.session.remove()
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(autouse=True)
def no_server_errors(request, server_errors):
    """No request anywhere in the suite may answer with a 500 (a 503 from /healthz is a report, not a fault)."""
    yield
    assert not server_errors, f"server errors during the test: {server_errors}"


@pytest.fixture
def app(make_app, request):
    """The app, with config overrides from ``@pytest.mark.app_config(KEY=value)``."""
    marker = request.node.get_closest_marker("app_config")
    app = make_app(**(marker.kwargs if marker else {}))
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


PASSWORD = "a long test password"


@pytest.fixture
def make_user(app):
    def create(email="owner@example.com", role="owner", password=PASSWORD) -> User:
        user = User(email=email, role=role)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        return user
    return create


class AuthActions:
    def __init__(self, client, make_user):
        self._client = client
        self._make_user = make_user

    def login(self, email="owner@example.com", role="owner", password=PASSWORD):
        self._make_user(email=email, role=role, password=password)
        response = self._client.post("/login", data={"email": email, "password": password})
        assert response.status_code == 302, response.data
        return response


@pytest.fixture
def auth(client, make_user):
    return AuthActions(client, make_user)


@pytest.fixture
def make_product(app):
    """Create a product with stock; returns it (committed)."""
    def create(sku="MUG-BLU", name=None, price="14.00", stock=10, reorder_point=2, active=True, cost=None):
        product = Product(sku=sku, name=name or f"Product {sku}", unit_price=Decimal(price),
                          unit_cost=Decimal(cost) if cost else None, reorder_point=reorder_point, active=active)
        db.session.add(product)
        db.session.flush()
        if stock:
            receive_stock(product, stock, reason="opening stock", actor="test")
        db.session.commit()
        return product
    return create


class ApiClient:
    """Calls /api/v1 with a Bearer token, JSON in and out."""

    def __init__(self, client, token: str):
        self.client = client
        self.token = token

    def headers(self, key=None, token=None):
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path, body=None, *, key=None, raw=None, token=None):
        data = raw if raw is not None else json.dumps(body)
        return self.client.post(f"/api/v1{path}", data=data, content_type="application/json",
                                headers=self.headers(key, token))

    def get(self, path, token=None, **params):
        return self.client.get(f"/api/v1{path}", query_string=params, headers=self.headers(token=token))


@pytest.fixture
def api(app, client, make_user):
    user = make_user(email="api-owner@example.com")
    token = create_api_token(user, ["orders:read", "orders:write", "products:read", "products:write"])
    db.session.commit()
    return ApiClient(client, token)


def order_body(sku="MUG-BLU", quantity=1, **extra) -> dict:
    """A well-formed API order that passes the audit when stock allows."""
    body = {
        "customer": {"name": "Jane Doe", "email": "jane@example.com", "phone": "+44 7700 900123",
                     "address": {"line1": "12 High St", "city": "Leeds", "postcode": "LS1 4AB", "country": "GB"}},
        "lines": [{"sku": sku, "quantity": quantity}],
    }
    body.update(extra)
    return body


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.port = free_port()
        self.server = make_server("127.0.0.1", self.port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(make_app):
    """Serve an app over real HTTP in a thread (many requests at once)."""
    servers = []

    def start(app=None) -> LiveServer:
        server = LiveServer(app or make_app()).__enter__()
        servers.append(server)
        return server
    yield start
    for server in servers:
        server.__exit__()
