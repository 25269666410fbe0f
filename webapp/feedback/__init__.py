"""Customer feedback: after delivery, a signed link to a public page where the customer rates the order."""
