"""Report panels: each loads one experiment table, draws the paper's figure, saves it (PDF + PNG),
and records the claim it checks in a :class:`mdmsched.reports.Claims`. Notebooks call these."""
