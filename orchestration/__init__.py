"""Gansu labour-training warehouse: Dagster code location, generator and helpers."""
