"""Report panels: each loads one experiment table, draws the paper's figure and saves it (PDF + PNG).
Panels only draw; the verdicts are claims of :mod:`mdmsched.claims`. Notebooks call these."""
