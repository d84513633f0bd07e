"""Use cases: a run's lifecycle, from typed options to results (its console, journal and confirmation)."""
