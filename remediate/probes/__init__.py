"""Verification probes: what each kind checks, its remote half and its JSON codec."""
