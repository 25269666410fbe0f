"""Ratings the demo's customers left on delivered orders, so satisfaction and the order pages show some."""
import random
from datetime import datetime, timedelta

RATINGS = (5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1)
COMMENTS = {
    5: ("Beautiful, even nicer in person.", "Arrived quickly and so well packed.", "A gift, and she loved it.", ""),
    4: ("Lovely glaze, a little smaller than I expected.", "Good, took a few days longer than hoped.", ""),
    3: ("Nice, but one mug had a small chip.", ""),
    2: ("The box was crushed and a plate cracked.",),
    1: ("Never arrived in one piece; still waiting for a reply.",),
}
SHARE = 0.35  # of delivered orders whose customer has an email


def demo_feedback(orders: list, seed: int, now: datetime) -> list[tuple]:
    """(order, rating, comment, when) for about a third of the delivered orders, a few days after their last event."""
    rng = random.Random(seed * 7919)
    given = []
    for order in orders:
        if order.status != "delivered" or not order.customer.identity.email or rng.random() > SHARE:
            continue
        if not any(e.to_status == "delivered" for e in order.events):
            continue
        # After everything else on the order's timeline (delivery, or a later partial refund).
        when = order.events[-1].at + timedelta(days=rng.randint(0, 6), hours=rng.randint(1, 12))
        if when >= now:
            continue
        rating = rng.choice(RATINGS)
        given.append((order, rating, rng.choice(COMMENTS[rating]), when))
    return given
