"""One module per step type. Each turns (rendered step, current file) into new content or a reason for no change.

Nothing here does I/O: the planner feeds these functions bytes that were gathered from the host.
"""
