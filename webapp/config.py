"""Settings from the environment, with the embedded defaults that let one command run everything on a laptop."""
import os
from datetime import timedelta

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def engine_options(database_url: str) -> dict:
    """How the app's database connections are made (create_app: for the URL it ends up with)."""
    if database_url.startswith("sqlite"):
        return {}  # a file: no server to have dropped a pooled connection, nothing to test it for
    return {
        # A server may have dropped a pooled connection (restarted, idle timeout): test each one as it is taken.
        "pool_pre_ping": True,
        # PostgreSQL compiles a statement it costs above jit_above_cost to machine code first: for the dashboard's
        # statements over a year of orders that took 0.2-0.6 s, more than running them. Nothing here runs long
        # enough to win it back.
        # Added to the URL's own options (a search_path, say), which connect_args would otherwise replace.
        "connect_args": {"options": " ".join(filter(None, (_url_options(database_url), "-c jit=off")))},
    }


def _url_options(database_url: str) -> str:
    from sqlalchemy.engine import make_url

    options = make_url(database_url).query.get("options", "")
    return " ".join(options) if isinstance(options, tuple) else options


def from_environment(instance_path: str) -> dict:
    """Read configuration from environment variables; defaults need nothing but this folder."""
    sqlite_default = "sqlite:///" + os.path.join(instance_path, "solo_oms.sqlite3")
    database_url = os.environ.get("DATABASE_URL", sqlite_default)
    if database_url.startswith("postgres://"):
        # Heroku-style URLs; SQLAlchemy wants the explicit dialect and we use psycopg 3.
        database_url = "postgresql+psycopg://" + database_url[len("postgres://"):]
    elif database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    session_max_days = int(os.environ.get("SESSION_MAX_DAYS", "14"))
    public_url = os.environ.get("PUBLIC_URL", "http://127.0.0.1:5000")
    # A shop reached over HTTPS (production) sends its cookies only over HTTPS; the laptop default and the tests,
    # on plain http://127.0.0.1, would otherwise never keep a session. SESSION_COOKIE_SECURE=0/1 decides outright.
    secure_cookies = _env_flag("SESSION_COOKIE_SECURE", public_url.startswith("https://"))
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY") or _instance_secret(instance_path),
        # Earlier SECRET_KEYs, comma-separated, while they are rotated out: two-step sign-in keys sealed under one
        # still open (webapp/auth/sealed_secrets.py).
        "OLD_SECRET_KEYS": [key.strip() for key in os.environ.get("OLD_SECRET_KEYS", "").split(",") if key.strip()],
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        "SHOP_TIMEZONE": os.environ.get("SHOP_TIMEZONE", "Europe/London"),
        # No SMTP server: messages are written as .eml files under instance/outbox/.
        "SMTP_URL": os.environ.get("SMTP_URL") or None,
        "OUTBOX_DIR": os.environ.get("OUTBOX_DIR", os.path.join(instance_path, "outbox")),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "orders@localhost"),
        "MAIL_DOMAIN": os.environ.get("MAIL_DOMAIN", "solo-oms.local"),
        # Where the shop's pages are reached from outside: links in emails.
        "PUBLIC_URL": public_url,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=session_max_days),
        # A signed-in session ends after this long without use, and this long after signing in at the most.
        "SESSION_IDLE_MINUTES": int(os.environ.get("SESSION_IDLE_MINUTES", "120")),
        "SESSION_MAX_DAYS": session_max_days,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        # Strict-Transport-Security on HTTPS responses (0: never send it).
        "HSTS_SECONDS": int(os.environ.get("HSTS_SECONDS", str(365 * 24 * 3600))),
        "WTF_CSRF_TIME_LIMIT": None,
        # Counted in Redis so that every web process shares the limit; per process while Redis is down.
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI", redis_url),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_ENABLED": _env_flag("RATELIMIT_ENABLED", True),
        "TRUSTED_PROXY_COUNT": int(os.environ.get("TRUSTED_PROXY_COUNT", "0")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(2 * 1024 * 1024))),
        # The import page's upload alone may be this large: a year of a shop's export runs to many megabytes.
        "IMPORT_MAX_BYTES": int(os.environ.get("IMPORT_MAX_BYTES", str(200 * 1024 * 1024))),
        "LOGIN_RATE_LIMIT": os.environ.get("LOGIN_RATE_LIMIT", "10 per minute"),
    # Per account, from any address, for the second step (authenticator or recovery code) and for the account
    # pages that check a code: a 6-digit code must not be guessable by spreading attempts over many addresses.
    "TWO_STEP_RATE_LIMIT": os.environ.get("TWO_STEP_RATE_LIMIT", "5 per minute;30 per hour"),
        "FEEDBACK_RATE_LIMIT": os.environ.get("FEEDBACK_RATE_LIMIT", "20 per minute"),
        # Per sending address: a shop's burst of orders passes, a flood of forged deliveries does not.
        "WEBHOOK_RATE_LIMIT": os.environ.get("WEBHOOK_RATE_LIMIT", "120 per minute"),
        # A web process marks the jobs it handed to RQ at most this often (one write instead of one per request).
        "DISPATCH_MARK_SECONDS": float(os.environ.get("DISPATCH_MARK_SECONDS", "2")),
        "BOARD_CARDS_PER_COLUMN": int(os.environ.get("BOARD_CARDS_PER_COLUMN", "20")),
        "BOARD_POLL_SECONDS": int(os.environ.get("BOARD_POLL_SECONDS", "5")),
        # Backups: where `flask backup` (and the nightly job) writes them, and how many newest files it keeps.
        "BACKUP_DIR": os.environ.get("BACKUP_DIR", os.path.join(instance_path, "backups")),
        "BACKUP_KEEP": int(os.environ.get("BACKUP_KEEP", "14")),
        # /metrics answers localhost without this; anyone else needs `Authorization: Bearer <METRICS_TOKEN>`.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        # "json": one JSON object per log line (web and worker), with the request or job id.
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text"),
        "ASSETS_DIR": os.environ.get("ASSETS_DIR", os.path.join(PROJECT_ROOT, "node_modules")),
    }


def _instance_secret(instance_path: str) -> str:
    """A random secret kept in instance/ so sessions survive restarts without any setup.

    Written to a temporary file and linked into place, so a process starting at the same moment either
    finds no file or a complete one, and all processes end up with the same secret.
    """
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path, encoding="ascii") as handle:
            return handle.read().strip()
    except FileNotFoundError:
        pass
    os.makedirs(instance_path, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(os.urandom(32).hex())
    try:
        os.link(temporary, path)  # fails if another process got there first; theirs wins
    except FileExistsError:
        pass
    finally:
        os.unlink(temporary)
    with open(path, encoding="ascii") as handle:
        return handle.read().strip()
