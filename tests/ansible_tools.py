"""ansible-core (a test-only dependency) as the reference: what its own ``ansible-inventory`` says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ANSIBLE_INVENTORY = Path(sys.executable).parent / "ansible-inventory"


def ansible_inventory(inventory: Path, *args: str) -> str:
    """``ansible-inventory -i INVENTORY ARGS``'s stdout, with no controller's config taking part."""
    (inventory.parent / "ansible.cfg").write_text("[defaults]\n")
    env = {**os.environ, "ANSIBLE_CONFIG": str(inventory.parent / "ansible.cfg")}
    env["ANSIBLE_HOME"] = str(inventory.parent / ".ansible")
    result = subprocess.run(
        [str(ANSIBLE_INVENTORY), "-i", str(inventory), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=inventory.parent,
        check=True,
    )
    return result.stdout
