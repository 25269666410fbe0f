"""Every write is noted in the activity log from one place: the session's ``after_flush`` event.

Each flush adds, in the same transaction as the change, one entry per tracked thing written, with the fields that
changed (old → new). An order's lines and timeline events fold into the order's entry; each stock movement is an
entry on its product. A thing written by several flushes of one transaction (an order is flushed for its id, then
numbered and audited) keeps one entry, brought up to date. Writes that bypass the ORM (history imports, the demo
shop) call ``record_bulk`` once per batch instead of once per row.
"""
from dataclasses import dataclass, field

from sqlalchemy import event, insert, inspect, select, update

from webapp.activity.actors import current_actor
from webapp.activity.models import ActivityEntry
from webapp.activity.tracked import IGNORED_EVERYWHERE, as_text, tracked_models
from webapp.timekeeping import utcnow

WRITTEN = "activity_written"  # session.info: this transaction's entries, by thing, so later flushes update them
TABLE = ActivityEntry.__table__


@dataclass
class Draft:
    kind: str
    action: str
    thing_id: int | None
    thing_ref: str
    changes: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def merge(self, later: "Draft") -> None:
        """Fold a later flush's changes into this entry: the first old value, the last new one."""
        for name, (old, new) in later.changes.items():
            first = self.changes[name][0] if name in self.changes else old
            self.changes[name] = [first, new]
        self.notes += later.notes
        self.thing_ref = later.thing_ref or self.thing_ref
        if later.action == "deleted":
            self.action = "deleted"

    def row(self, actor: str, user_id: int | None) -> dict:
        return {"at": utcnow(), "actor": actor[:254], "actor_user_id": user_id, "kind": self.kind,
                "action": self.action, "thing_id": self.thing_id, "thing_ref": self.thing_ref[:200],
                "changes": self.changes, "note": " ".join(self.notes)}


def install(session_class) -> None:
    """Listen on the app's session class (once, however many apps are built)."""
    if not event.contains(session_class, "after_flush", note_flush):
        event.listen(session_class, "after_flush", note_flush)
        event.listen(session_class, "after_transaction_end", _forget_at_the_end)
        # A rolled-back savepoint may have taken entries with it: later flushes write new ones.
        event.listen(session_class, "after_soft_rollback", lambda session, transaction: _forget(session))


def _forget_at_the_end(session, transaction) -> None:
    if transaction.parent is None:  # the real transaction, not a savepoint (its release fires after_commit too)
        _forget(session)


def _forget(session) -> None:
    session.info.pop(WRITTEN, None)


def note_flush(session, flush_context) -> None:
    """Write entries for what this flush inserted, updated and deleted."""
    drafts: dict[tuple, Draft] = {}
    for action, objects in (("created", session.new), ("changed", session.dirty), ("deleted", session.deleted)):
        for obj in objects:
            _note_thing(drafts, obj, action)
    for action, objects in (("created", session.new), ("changed", session.dirty), ("deleted", session.deleted)):
        for obj in objects:
            _note_part(session, drafts, obj, action)
    drafts = {key: draft for key, draft in drafts.items() if draft.changes or draft.notes}
    if drafts:
        write_drafts(session, drafts)


def _changes(obj, action: str, ignored: frozenset) -> dict:
    state = inspect(obj)
    changes = {}
    for attribute in state.mapper.column_attrs:
        name = attribute.key
        if name in IGNORED_EVERYWHERE or name in ignored:
            continue
        if action == "changed":
            history = state.attrs[name].history
            if not history.has_changes():
                continue
            old = as_text(name, history.deleted[0]) if history.deleted else None
            new = as_text(name, history.added[0]) if history.added else None
            if old != new or old == "[redacted]":
                changes[name] = [old, new]
        elif name in state.dict and state.dict[name] not in (None, "", [], {}):
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
        order = _known(session, Order, obj.order_id, "number") if obj.order_id else None
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
    obj = session.identity_map.get(session.identity_key(model, thing_id))
    if obj is not None and column in inspect(obj).dict:
        return inspect(obj).dict[column] or ""
    query = select(getattr(model, column)).where(model.id == thing_id)
    return session.connection().execute(query).scalar() or ""


def write_drafts(session, drafts: dict[tuple, Draft]) -> None:
    """Insert new entries in one statement; update the ones this transaction wrote before."""
    written = session.info.setdefault(WRITTEN, {})
    connection = session.connection()
    actor, user_id = current_actor()
    fresh = []
    for key, draft in drafts.items():
        earlier = written.get(key)
        if earlier is None:
            fresh.append((key, draft))
            continue
        entry_id, first = earlier
        first.merge(draft)
        connection.execute(update(TABLE).where(TABLE.c.id == entry_id).values(
            action=first.action, thing_ref=first.thing_ref[:200], changes=first.changes, note=" ".join(first.notes)))
    if fresh:
        ids = connection.execute(insert(TABLE).returning(TABLE.c.id, sort_by_parameter_order=True),
                                 [draft.row(actor, user_id) for _, draft in fresh]).scalars().all()
        written.update({key: (entry_id, draft) for (key, draft), entry_id in zip(fresh, ids, strict=True)})


def record_bulk(session, *, kind: str, thing_ref: str, note: str, thing_id: int | None = None) -> None:
    """One entry for a batch written without the ORM (a history import batch, the demo shop)."""
    actor, user_id = current_actor()
    session.connection().execute(insert(TABLE), [Draft(kind, "imported", thing_id, thing_ref, {}, [note])
                                                 .row(actor, user_id)])
