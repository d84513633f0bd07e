"""paramiko, imported without Fabric's ``invoke``.

paramiko's ``config`` module imports ``invoke`` wherever it is installed (``pip install remediate[fabric]``,
or the test environment), only to run ssh_config's ``Match exec`` commands; with it come ``unittest.mock``
and ``asyncio``: about 60 ms of every start, paid by every run whether its ssh_config says ``Match exec``
or not. So paramiko is imported with ``invoke`` hidden, and ``allow_match_exec`` gives it back to the one
ssh_config that needs it. Inside Fabric (``invoke`` already imported) nothing is hidden.
"""

from __future__ import annotations

import sys

if "paramiko" not in sys.modules and "invoke" not in sys.modules:
    sys.modules["invoke"] = None  # type: ignore[assignment]  # `import invoke` raises ImportError
    try:
        import paramiko
    finally:
        del sys.modules["invoke"]
else:
    import paramiko

import paramiko.config


def allow_match_exec() -> None:
    """Lets paramiko run ssh_config's ``Match exec`` as it would have: with ``invoke``, where installed."""
    # paramiko.config.invoke is paramiko's own module-level name for it (untyped: None where missing).
    if getattr(paramiko.config, "invoke", None) is None:
        try:
            import invoke
        except ImportError:
            return  # paramiko then says, as ever, that Match exec needs invoke
        setattr(paramiko.config, "invoke", invoke)  # noqa: B010  # not in paramiko's type stubs


__all__ = ["allow_match_exec", "paramiko"]
