"""Every write is noted in the activity log from one place: the session's flush and commit events.

Each flush notes, per tracked thing written, the fields that changed (old → new); an order's lines and timeline
events fold into the order's entry, and each stock movement is an entry on its product. A thing written by
several flushes (an order is flushed for its id, then numbered and audited) keeps one entry. The notes are
inserted in one statement just before the commit, in the same transaction as the change; a rolled-back savepoint
drops the notes made inside it. Writes that bypass the ORM (history imports, the demo shop) call ``record_bulk``
once per batch instead of once per row.
"""
from dataclasses import dataclass, field

from sqlalchemy import event, insert, inspect, select

from webapp.activity.actors import current_actor
from webapp.activity.models import ActivityEntry
from webapp.activity.tracked import IGNORED_EVERYWHERE, REDACTED, as_text, tracked_models
from webapp.timekeeping import utcnow

PENDING = "activity_pending"  # session.info: {savepoint or None: {thing: Draft}}, written at the commit
TABLE = ActivityEntry.__table__
INSERT_ENTRIES = insert(TABLE)  # built once: every commit that wrote something runs it


@dataclass
class Draft:
    kind: str
    action: str
    thing_id: int | None
    thing_ref: str
    changes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    actor: tuple[str, int | None] = ("system", None)
    at: object = field(default_factory=utcnow)

    def merge(self, later: "Draft") -> None:
        """Fold a later flush's changes into this entry: the first old value, the last new one."""
        for name, (old, new) in later.changes.items():
            first = self.changes[name][0] if name in self.changes else old
            self.changes[name] = [first, new]
        self.notes += later.notes
        self.thing_ref = later.thing_ref or self.thing_ref
        if later.action == "deleted":
            self.action = "deleted"

    def row(self) -> dict:
        actor, user_id = self.actor
        return {"at": self.at, "actor": actor[:254], "actor_user_id": user_id, "kind": self.kind,
                "action": self.action, "thing_id": self.thing_id, "thing_ref": self.thing_ref[:200],
                "changes": self.changes, "note": " ".join(self.notes)}


def install(session_class) -> None:
    """Listen on the app's session class (once, however many apps are built)."""
    if not event.contains(session_class, "after_flush", note_flush):
        event.listen(session_class, "after_flush", note_flush)
        event.listen(session_class, "before_commit", write_entries)
        event.listen(session_class, "after_soft_rollback", _drop_rolled_back)
        event.listen(session_class, "after_transaction_end", _hand_up)


def note_flush(session, flush_context) -> None:
    """Note what this flush inserted, updated and deleted, under the savepoint it happened in."""
    written = [(action, obj) for action, objects in (("created", session.new), ("changed", session.dirty),
                                                     ("deleted", session.deleted)) for obj in objects]
    drafts: dict[tuple, Draft] = {}
    for action, obj in written:  # things first, so that their parts find their entries
        _note_thing(drafts, obj, action)
    for action, obj in written:
        _note_part(session, drafts, obj, action)
    drafts = {key: draft for key, draft in drafts.items() if draft.changes or draft.notes}
    if drafts:
        actor = current_actor()  # who acts now: a job or command may commit for several actors in turn
        for draft in drafts.values():
            draft.actor = actor
        _merge(session.info.setdefault(PENDING, {}).setdefault(session.get_nested_transaction(), {}), drafts)


def _merge(into: dict, drafts: dict) -> None:
    for key, draft in drafts.items():
        if key in into:
            into[key].merge(draft)
        else:
            into[key] = draft


def _drop_rolled_back(session, transaction) -> None:
    pending = session.info.get(PENDING)
    if pending is not None:
        if transaction.nested:
            pending.pop(transaction, None)
        else:
            pending.clear()


def _hand_up(session, transaction) -> None:
    """A released savepoint's notes now belong to the transaction around it; the real end forgets them all."""
    pending = session.info.get(PENDING)
    if pending is None:
        return
    if transaction.nested:
        released = pending.pop(transaction, None)
        if released:
            parent = transaction.parent
            _merge(pending.setdefault(parent if parent.nested else None, {}), released)
    elif transaction.parent is None:
        session.info.pop(PENDING, None)


def write_entries(session) -> None:
    """Just before the real commit: flush what is left, then insert every entry in one statement."""
    if session.in_nested_transaction():
        return  # a savepoint's release: the notes wait for the real commit
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        rows = [draft.row() for drafts in pending.values() for draft in drafts.values()]
        session.connection().execute(INSERT_ENTRIES, rows)


def _changes(obj, action: str, ignored: frozenset) -> dict:
    state = inspect(obj)
    columns = state.mapper.column_attrs
    changes = {}
    # An update looks only at the attributes it touched (committed_state), not at every column.
    names = state.committed_state if action == "changed" else columns.keys()
    for name in names:
        if name in IGNORED_EVERYWHERE or name in ignored or name not in columns:
            continue
        if action == "changed":
            history = state.attrs[name].history
            if not history.has_changes():
                continue
            old = as_text(name, history.deleted[0]) if history.deleted else None
            new = as_text(name, history.added[0]) if history.added else None
            if old != new or old == REDACTED:
                changes[name] = [old, new]
        elif state.dict.get(name) not in (None, "", [], {}):
            value = as_text(name, state.dict[name])
            changes[name] = [None, value] if action == "created" else [value, None]
    return changes


def _note_thing(drafts: dict, obj, action: str) -> None:
    tracked = tracked_models().get(type(obj))
    if tracked is None:
        return
    changes = _changes(obj, action, tracked.ignored)
    if changes:
        drafts[(type(obj).__name__, obj.id)] = Draft(tracked.kind, action, obj.id if tracked.linked else None,
                                                     tracked.name(obj), changes)


def _note_part(session, drafts: dict, obj, action: str) -> None:
    """Order lines and events add to their order's entry; a stock movement is an entry on its product."""
    from webapp.catalog.models import Product, StockMovement
    from webapp.orders.models import Order, OrderEvent, OrderLine

    if isinstance(obj, StockMovement) and action == "created":
        sku = _known(session, Product, obj.product_id, "sku")
        order = None
        if obj.order_id:  # an order written in this same flush is not in the identity map yet, but in drafts
            noted = drafts.get(("Order", obj.order_id))
            order = noted.thing_ref if noted is not None else _known(session, Order, obj.order_id, "number")
        changes = {name: [None, f"{delta:+d}"] for name, delta in (("on_hand", obj.on_hand_delta),
                                                                  ("reserved", obj.reserved_delta)) if delta}
        if order:
            changes["order"] = [None, order]
        drafts[("StockMovement", obj.id)] = Draft("stock", obj.kind, obj.product_id, sku, changes, [obj.reason])
    elif isinstance(obj, (OrderLine, OrderEvent)):
        key = ("Order", obj.order_id)
        if key not in drafts:
            drafts[key] = Draft("order", "changed", obj.order_id, _known(session, Order, obj.order_id, "number"))
        order = drafts[key]
        if isinstance(obj, OrderEvent):
            if action == "created":
                order.notes.append(_event_text(obj))
            return
        state = inspect(obj)
        old = None if action == "created" else _line_text(state, "deleted")
        new = None if action == "deleted" else _line_text(state, "added")
        if old != new:
            order.changes[f"line {obj.sku}"] = [old, new]


def _line_text(state, side: str) -> str:
    """'2 × 14.00' before (``deleted`` history) or after (``added``) the change."""
    def value(name):
        history = state.attrs[name].history
        values = getattr(history, side) or history.unchanged
        return values[0] if values else state.dict.get(name)
    return f"{value('quantity')} × {value('unit_price')}"


def _event_text(event_row) -> str:
    text = event_row.kind
    if event_row.to_status:
        text += f" {event_row.from_status or ''} → {event_row.to_status}".replace("  ", " ")
    return f"[{text}] {event_row.note}".strip() if event_row.note else f"[{text}]"


def _known(session, model, thing_id: int, column: str) -> str:
    """A name already in the session (no query), else one small look-up."""
    obj = session.identity_map.get(inspect(model).identity_key_from_primary_key([thing_id]))
    if obj is not None and column in inspect(obj).dict:
        return inspect(obj).dict[column] or ""
    query = select(getattr(model, column)).where(model.id == thing_id)
    return session.connection().execute(query).scalar() or ""


def record_bulk(session, *, kind: str, thing_ref: str, note: str, thing_id: int | None = None,
                action: str = "imported") -> None:
    """One entry for a write made without the ORM (a history import batch, the demo shop, signing a user out
    everywhere)."""
    entry = Draft(kind, action, thing_id, thing_ref, {}, [note], current_actor())
    session.connection().execute(insert(TABLE), [entry.row()])
