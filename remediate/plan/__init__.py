"""Pure planning: no sockets, clock or files. Select, render, plan, waves, undo, diff, masking."""
