"""One module per step type (line_patch, template), each an ``ActionType`` (base): its YAML key, loading,
rendering, opening a missing target and applying itself; ``registry`` holds them by key.

Nothing here does I/O: the planner feeds these functions text that was gathered from the host.
"""
