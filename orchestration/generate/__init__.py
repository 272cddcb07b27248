"""The synthetic raw world: seven sources of sheets as a county office would send them, with a
ground-truth manifest of the defects injected into them. See docs/defects.md.

    python -m orchestration.generate --scale sample --seed 2015 --out raw
"""

from orchestration.generate.run import generate

__all__ = ["generate"]
