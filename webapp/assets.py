"""Front-end packages installed from package.json (npm) are served from node_modules, never committed."""
import os

from flask import Blueprint, Flask, abort, current_app, send_from_directory

# URL name -> file inside node_modules. Only these files are served.
VENDOR_FILES = {
    "htmx.js": "htmx.org/dist/htmx.min.js",
    "chart.js": "chart.js/dist/chart.umd.min.js",
}

bp = Blueprint("assets", __name__)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


@bp.route("/vendor/<name>")
def vendor(name: str):
    """Serve one whitelisted front-end package file."""
    relative = VENDOR_FILES.get(name)
    if relative is None:
        abort(404)
    directory, filename = os.path.split(os.path.join(current_app.config["ASSETS_DIR"], relative))
    return send_from_directory(directory, filename, max_age=86400)
