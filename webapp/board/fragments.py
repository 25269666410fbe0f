"""The board fragment, rendered once per board version in each web process and served again from memory.

A board version (the ETag, see columns.board_version) changes when any order changes, the shop's day turns, a
minute passes, the ship-time model is rebuilt, or the viewer's role or filters differ: everything the fragment
shows. So a fragment kept under its version is exactly what rendering it again would give, and it is never kept
longer than the 304 answer would be: what the version cannot see (a customer renamed, say) shows within the
minute either way. The one thing that differs per person is the CSRF token in the card forms: the fragment is
kept with a slot and each response gets its session's token put in.
"""
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import current_app, request
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

# Rendered as is (Markup), and no order, customer or hold reason can put it in the HTML: autoescaping turns
# their "<" into "&lt;".
CSRF_SLOT = Markup("<board-csrf-token>")
# Versions change every minute, so a few dozen cover every tab and filter in use; each is ~130 KB at most.
KEPT_VERSIONS = 32

_lock = threading.Lock()


def board_fragment(version: str, render: Callable[[Markup], str]) -> str:
    """The fragment of ``version``: ``render(csrf_token)`` once per process and version, then from memory."""
    kept: OrderedDict = current_app.extensions.setdefault("board_fragments", OrderedDict())
    key = (version, request.script_root)  # links are built under the app's mount point
    html = kept.get(key)
    if html is None:
        html = render(CSRF_SLOT)
        with _lock:
            kept[key] = html
            while len(kept) > KEPT_VERSIONS:
                kept.popitem(last=False)
    return html.replace(CSRF_SLOT, generate_csrf())
