"""Reports to officials: each city's monthly data-quality and attainment workbook (and HTML twin),
and the province summary. ``builder`` writes them (plain functions), ``assets`` runs them in Dagster.
"""
