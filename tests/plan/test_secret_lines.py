"""Masking by where, function by function: which lines hold a secret, and how other versions of the file
are masked like them. Pure.

Templates are rendered here with jinja2 itself, twice as the renderer does (true values, then sentinels),
so the lines found are those a real template gives.
"""

from __future__ import annotations

from typing import Any

import jinja2
import pytest

from remediate.plan.masking import MASK, Masker
from remediate.plan.secret_lines import mask_like, rendered_secret_lines, sentinel_context, shown_lines, shown_version

PEM = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0B\nq9Zl3mVd5rT0aXfWq1X2\n-----END KEY-----"
M = MASK


def secret_lines(source: str, context: dict[str, Any], secrets: set[str]) -> dict[str, str]:
    """The (line -> masked line) map of ``source`` rendered with ``context``, as the renderer finds it."""
    template = jinja2.Environment(keep_trailing_newline=True).from_string(source)
    sentinel = sentinel_context(context, frozenset(secrets))
    return dict(
        rendered_secret_lines(template.render(context), None if sentinel is None else template.render(sentinel))
    )


# --- sentinel_context ------------------------------------------------------------------------------------


def test_sentinel_context_replaces_each_secret_variable_by_a_sentinel_of_its_own() -> None:
    context = {"user": "wp", "password": "s3cret", "token": "s3cret", "port": 5432, "debug": True}
    sentinel = sentinel_context(context, frozenset({"s3cret", "5432", "True"}))
    assert sentinel is not None
    assert sentinel["user"] == "wp"  # not a secret: kept
    assert sentinel["debug"] is True  # a bool is never taken for a secret, even when its text is one
    replaced = [sentinel["password"], sentinel["token"], sentinel["port"]]
    assert all("s3cret" not in str(v) and "5432" not in str(v) for v in replaced)
    assert len(set(replaced)) == 3  # two variables holding one value still get two sentinels
    assert context["password"] == "s3cret"  # the caller's context is not changed


def test_sentinel_context_is_none_when_no_variable_holds_a_secret() -> None:
    assert sentinel_context({"user": "wp", "nested": {"pw": "s3cret"}}, frozenset({"s3cret"})) is None


# --- rendered_secret_lines -------------------------------------------------------------------------------


def test_a_line_a_secret_is_rendered_into_keeps_its_text_around_the_mask() -> None:
    found = secret_lines(
        "user = {{ user }}\npassword = {{ pw }}\nurl = db://{{ user }}:{{ pw }}@h\n",
        {"user": "wp", "pw": "s3cret"},
        {"s3cret"},
    )
    assert found == {"password = s3cret": f"password = {M}", "url = db://wp:s3cret@h": f"url = db://wp:{M}@h"}


def test_a_multi_line_secret_masks_each_of_its_lines_whole_and_nothing_around() -> None:
    found = secret_lines("# key of {{ host }}\n{{ key }}\n\nend\n", {"host": "web1", "key": PEM}, {PEM})
    assert found == {line: M for line in PEM.split("\n")}


def test_a_filtered_secret_masks_its_line_whole() -> None:
    # A filter that changes every character changes the sentinel's too: where it sat is lost.
    found = secret_lines("auth = {{ pw | reverse }}\nuser = wp\n", {"pw": "s3cret"}, {"s3cret"})
    assert found == {"auth = terc3s": M}


def test_a_template_that_cannot_be_rendered_with_sentinels_masks_every_line_but_the_empty() -> None:
    found = dict(rendered_secret_lines("port = 5432\n\nuser = wp\n", None))
    assert found == {"port = 5432": M, "user = wp": M}


def test_an_empty_line_inside_a_secret_is_not_masked() -> None:
    # Masking it would mask every empty line of the file, and an empty line holds nothing.
    key = "line-one-of-it\n\nline-three-of-it"
    found = secret_lines("{{ key }}\n", {"key": key}, {key})
    assert found == {"line-one-of-it": M, "line-three-of-it": M}


# --- shown_lines -----------------------------------------------------------------------------------------


def test_shown_lines_finds_a_secret_line_by_its_text_where_a_later_patch_moved_it() -> None:
    # Filtered, the secret is not found by its value: only the line's text finds it.
    found = secret_lines("user = wp\nauth = {{ pw | reverse }}\n", {"pw": "s3cret"}, {"s3cret"})
    # A line_patch put a line first and moved the secret's line below another.
    patched = ["# managed", "user = wp", "timeout = 5", "auth = terc3s", ""]
    assert shown_lines(patched, found, Masker(["s3cret"])) == ["# managed", "user = wp", "timeout = 5", M, ""]


def test_shown_lines_masks_by_value_what_a_patch_wrote_and_keeps_the_rest() -> None:
    shown = shown_lines(["user = wp", "api s3cret here", "s3cretive"], {}, Masker(["s3cret"]))
    assert shown == ["user = wp", f"api {M} here", f"{M}ive"]
    assert shown_lines(["user = wp"], {}, Masker()) == ["user = wp"]


# --- mask_like -------------------------------------------------------------------------------------------

NEW = ["user = wp", f"password = {M}", "host = web1", ""]


def test_the_old_side_of_a_rotation_is_masked_at_the_masked_lines_place() -> None:
    old = ["user = wp", "password = old-value", "host = web1", ""]
    assert mask_like(NEW, old) == NEW


def test_an_old_line_at_a_masked_place_without_its_shape_is_masked_whole() -> None:
    old = ["user = wp", "pass: old-value", "host = web1", ""]
    assert mask_like(NEW, old) == ["user = wp", M, "host = web1", ""]


def test_an_old_secret_line_elsewhere_in_the_file_is_masked_by_its_shape() -> None:
    # The original had the password first: nothing of the new file's masked lines lines up with it.
    old = ["password = old-value", "user = wp", "host = web1", ""]
    assert mask_like(NEW, old) == [f"password = {M}", "user = wp", "host = web1", ""]


def test_where_the_versions_do_not_line_up_a_block_with_a_masked_line_is_masked_by_place() -> None:
    # A line at a masked line's place may hold the secret in a form not known: masked whole, as is a line
    # the old block has beyond the new one's (the secret may be longer there); the others are left.
    old = ["host = web0", "user = wp", "# legacy", "timeout = 5", "password = old-value", ""]
    masked = mask_like(NEW, old)
    assert masked == ["host = web0", "user = wp", M, "timeout = 5", M, ""]


def test_an_old_multi_line_secret_longer_than_the_new_is_masked_to_its_last_line() -> None:
    new = ["# key", M, M, M, M, "end", ""]
    old = ["# key", "-----BEGIN KEY-----", "AAAA", "BBBB", "CCCC", "DDDD", "-----END KEY-----", "end", ""]
    masked = mask_like(new, old)
    assert masked == ["# key", M, M, M, M, M, M, "end", ""]
    assert len(masked) == len(old)


def test_an_old_side_shorter_than_the_new_masks_only_what_lines_up_with_masks() -> None:
    new = ["# key", M, M, M, M, "user = wp", ""]
    old = ["# key", "short-old-key", "user = wp", ""]
    assert mask_like(new, old) == ["# key", M, "user = wp", ""]


def test_a_mask_alone_has_no_shape_to_find_elsewhere() -> None:
    # The line that is the secret alone would match every line: lines that line up are left as they are.
    new = ["a = 1", M, "b = 2", ""]
    old = ["z = 0", "a = 1", "b = 2", "c = 3", ""]
    assert mask_like(new, old) == old


def test_mask_like_returns_other_as_it_is_when_nothing_is_masked() -> None:
    old = ["user = wp", "password = old"]
    masked = mask_like(["user = wp", "password = new"], old)
    assert masked == old and masked is not old


@pytest.mark.parametrize(
    "old",
    [
        [],
        [""],
        ["password = x"],
        ["x", "y", "z", "password = a", "password = b", "w", "v", "u", "t", ""],
        ["host = web1", "user = wp"],
    ],
)
def test_mask_like_keeps_the_number_of_lines(old: list[str]) -> None:
    # The diff is of the true lines printed as their masked forms, line for line.
    masked = mask_like(NEW, old)
    assert len(masked) == len(old)
    assert all(line.startswith("password = ") and line.endswith(M) for line in masked if "password" in line)


# --- shown_version ---------------------------------------------------------------------------------------


def test_shown_version_is_none_when_nothing_of_it_is_masked() -> None:
    assert shown_version(b"user = wp\n", [f"user = wp\npassword = {M}\n".encode()]) is None
    assert shown_version(b"user = wp\n", [None]) is None


def test_shown_version_masks_like_each_form_in_turn_and_by_value() -> None:
    # The original's shown form knows where its own secret line sits, the new file's the shape of a line
    # the original lacked; the masker the values the run knows.
    original = f"user = wp\n{M}\nhost = web1\n".encode()
    new = f"user = wp\n{M}\nhost = web1\napi = {M}\n".encode()
    now = b"user = s3cret\npassword: old\nhost = web1\napi = k3y-by-hand\n"
    shown = shown_version(now, [original, new], Masker(["s3cret"]))
    assert shown == f"user = {M}\n{M}\nhost = web1\napi = {M}\n".encode()
    assert shown_version(now, [original]) == f"user = s3cret\n{M}\nhost = web1\napi = k3y-by-hand\n".encode()


def test_shown_version_of_bytes_that_are_not_utf8_still_masks_them() -> None:
    shown = shown_version(b"password = \xff\xfeold\nx\n", [f"password = {M}\nx\n".encode()])
    assert shown == f"password = {M}\nx\n".encode()
