"""Demand forecasts per product, turned into reorder advice; unusual sales days."""
