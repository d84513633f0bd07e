"""The Masker masks a secret in every form it can take. Pure."""

from __future__ import annotations

import json
import shlex

import pytest
from secret_search import leaks

from remediate.plan.masking import MASK, Masker

PEM = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nq9Zl3mVd5rT0aXfWq1X2\n-----END KEY-----"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        ("it's-a-secret", lambda s: shlex.quote(s)),
        ("Pässwörd-ünï", lambda s: json.dumps(s)),
        ("Pässwörd-ünï", lambda s: json.dumps([shlex.quote(s)])),
        ("regex-(3a7c\\d", lambda s: f"invalid regex {s!r}"),  # repr doubles the backslash
        (PEM, lambda s: "".join(f"+{line}\n" for line in s.splitlines())),
        (PEM, lambda s: json.dumps(s)),
    ],
)
def test_every_form_of_a_secret_is_masked(secret: str, shown: object) -> None:
    text = shown(secret)  # type: ignore[operator]
    assert leaks(secret, text) != []  # the form is really there before masking
    masked = Masker([secret]).text(text)
    assert leaks(secret, masked) == [] and MASK in masked
    assert leaks(secret, Masker([secret]).data(text.encode())) == []
