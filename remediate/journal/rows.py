"""SQL the journal's modules share: a host's result row, as the journal and its work queue write it."""

from __future__ import annotations

# Inserts or updates one host's row (run_id, host, address, status, error, backup_dir, started, finished):
# a backup folder already recorded is kept when the update has none.
HOST_RESULT = (
    "INSERT INTO hosts (run_id, host, address, status, error, backup_dir, started) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, host) DO UPDATE SET "
    "status = excluded.status, error = excluded.error, "
    "backup_dir = CASE WHEN excluded.backup_dir != '' THEN excluded.backup_dir ELSE hosts.backup_dir END, "
    "finished = ?"
)
