"""Reports to officials: ``builder`` writes each city's monthly workbook and HTML twin, and the
province summary."""
