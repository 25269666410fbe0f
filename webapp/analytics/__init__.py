"""Sales analytics: the KPIs of any date range, computed in SQL."""
