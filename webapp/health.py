"""GET /healthz: is the database answering, is Redis, is a worker alive. No auth, no secrets."""
from flask import Blueprint, Flask, jsonify
from sqlalchemy import text

from webapp.extensions import db
from worker import redis_connection, worker_heartbeat_age

bp = Blueprint("health", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/healthz")
def healthz():
    """Report database, Redis and worker status; 503 when the database or Redis is down."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the type is reported
        checks["database"] = f"error: {type(error).__name__}"
    finally:
        db.session.rollback()
    try:
        redis_connection().ping()
        checks["redis"] = "ok"
        heartbeat = worker_heartbeat_age()
        checks["worker"] = "ok" if heartbeat is not None and heartbeat < 180 else "no recent heartbeat"
    except Exception as error:  # noqa: BLE001
        checks["redis"] = f"error: {type(error).__name__}"
        checks["worker"] = "unknown"
    healthy = checks["database"] == "ok" and checks["redis"] == "ok"
    return jsonify(status="ok" if healthy else "degraded", checks=checks), 200 if healthy else 503
