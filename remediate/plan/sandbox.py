"""Jinja2's immutable sandbox with bounds, so a template cannot run away in time or memory.

A render in a thread cannot be stopped from outside, so the bounds are structural: ``range()`` has a
budget of elements per render (nested loops over it share the budget), ``lipsum()`` a paragraph cap,
``*`` and ``**`` refuse results past the output limit before computing them, and the output is
gathered chunk by chunk from ``generate()`` with its size and the elapsed time checked between chunks.
Loops that print nothing are stopped by the clock as well: in the main thread (where the CLI renders)
a SIGALRM interval timer checks the deadline while the render runs.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from types import FrameType
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, generate_lorem_ipsum

from remediate.limits import TEMPLATE_MAX_LIPSUM, TEMPLATE_MAX_OUTPUT, TEMPLATE_MAX_RANGE, TEMPLATE_MAX_SECONDS


class LimitExceeded(SecurityError):
    """A render went past one of the bounds (a TemplateError, so every caller reports it as one)."""


@dataclass
class _Budget:
    """What is left to one render (mutable by design: it is spent as the render runs)."""

    deadline: float
    range_left: int = TEMPLATE_MAX_RANGE

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise LimitExceeded(f"rendering took longer than {TEMPLATE_MAX_SECONDS:g} s")


_BUDGET: ContextVar[_Budget | None] = ContextVar("render_budget", default=None)


def _spend(elements: int) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.check_clock()
    budget.range_left -= elements
    if budget.range_left < 0:
        raise LimitExceeded(f"range() gives more than {TEMPLATE_MAX_RANGE:,} elements in one render")


def check_clock() -> None:
    """LimitExceeded once the render in progress is past its time (for a filter that loops in Python)."""
    _spend(0)


def _range(*args: int) -> range:
    numbers = range(*args)
    _spend(len(numbers))
    return numbers


def _lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    if not 0 <= n <= TEMPLATE_MAX_LIPSUM or not 0 < min <= max <= 1000:
        raise LimitExceeded(f"lipsum() takes at most {TEMPLATE_MAX_LIPSUM} paragraphs of at most 1000 words")
    return str(generate_lorem_ipsum(n=n, html=html, min=min, max=max))


def check_size(value: Any) -> Any:
    """``value``, or LimitExceeded when it is bigger than TEMPLATE_MAX_OUTPUT elements and characters,
    counting a list that appears twice twice: what printing it would produce. Called before a value is
    printed, stored in a namespace or passed to a filter or call, because str() of a list nested in
    itself runs in C, where neither the clock nor the output bound can stop it.

    Each container is walked once: the size of one seen before is taken from its first walk, so a list
    doubled 40 times costs 40 steps, not the 10,000,000 of walking each copy (1 s, stopped only by the
    clock). A container inside itself counts as too large (printing it would not end in the walk)."""
    total = 0  # of everything counted so far: the walk stops as soon as it passes the bound
    sizes: dict[int, int] = {}  # id of a container walked in this call -> its printed size
    root = _elements(value)
    if root is None:
        total = _atom_size(value)
    open_ids = {id(value)}
    stack: list[list[Any]] = [] if root is None else [[value, root, 1]]  # [container, its elements, size]
    total += len(stack)
    while stack and total <= TEMPLATE_MAX_OUTPUT:
        frame = stack[-1]
        for item in frame[1]:
            elements = _elements(item)
            if elements is None:
                grown = _atom_size(item)
            elif id(item) in sizes:
                grown = sizes[id(item)]
            elif id(item) in open_ids:
                grown = TEMPLATE_MAX_OUTPUT + 1
            else:
                open_ids.add(id(item))
                stack.append([item, elements, 1])
                total += 1
                break
            frame[2] += grown
            total += grown
            if total > TEMPLATE_MAX_OUTPUT:
                break
        else:
            stack.pop()
            open_ids.discard(id(frame[0]))
            sizes[id(frame[0])] = frame[2]
            if stack:
                stack[-1][2] += frame[2]  # already in total, element by element
    if total > TEMPLATE_MAX_OUTPUT:
        raise LimitExceeded(f"a value larger than {TEMPLATE_MAX_OUTPUT:,} elements and characters")
    return value


def _elements(item: Any) -> Iterator[Any] | None:
    """What printing ``item`` prints inside it, or None for a value without elements."""
    if isinstance(item, dict):
        return itertools.chain(item.keys(), item.values())
    if isinstance(item, list | tuple | set | frozenset):
        return iter(item)
    return None


def _atom_size(item: Any) -> int:
    return 1 + (len(item) if isinstance(item, str | bytes) else 0)


class _BoundedNamespace(Namespace):
    """``namespace()``, whose attributes are the one thing a loop can grow from one pass to the next."""

    def __setitem__(self, name: str, value: Any) -> None:
        super().__setitem__(name, check_size(value))


def _bounded_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        for argument in (*args, *kwargs.values()):
            if not isinstance(argument, jinja2.runtime.Context | jinja2.Environment | EvalContext):
                check_size(argument)
        return function(*args, **kwargs)

    for marker in ("jinja_pass_arg",):  # Jinja passes the context or environment by this marker
        if hasattr(function, marker):
            setattr(bounded, marker, getattr(function, marker))
    return bounded


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, filters: Mapping[str, Callable[..., Any]] | None = None, **options: Any) -> None:
        """``filters``: more filters (plan/filters' Ansible ones), bounded like Jinja's own."""
        finalize = options.pop("finalize", None)
        super().__init__(finalize=lambda v: check_size(finalize(v) if finalize else v), **options)
        self.globals.update(range=_range, lipsum=_lipsum, namespace=_BoundedNamespace)
        self.filters = {name: _bounded_filter(f) for name, f in {**self.filters, **(filters or {})}.items()}

    def call(self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        for argument in (*args, *kwargs.values()):
            check_size(argument)
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "*":
            _check_repeat(left, right)
            _check_repeat(right, left)
        elif _power_too_big(left, right):
            raise LimitExceeded(f"{left!r} ** {right!r} is too large a number")
        return super().call_binop(context, operator, left, right)


def _check_repeat(sequence: Any, times: Any) -> None:
    repeatable = isinstance(sequence, str | list | tuple) and isinstance(times, int)
    if repeatable and len(sequence) * times > TEMPLATE_MAX_OUTPUT:
        raise LimitExceeded(f"a repetition longer than {TEMPLATE_MAX_OUTPUT:,} elements")


def _power_too_big(base: Any, exponent: Any) -> bool:
    if not isinstance(base, int) or not isinstance(exponent, int) or abs(base) < 2 or exponent < 0:
        return False
    return exponent * math.log2(abs(base)) > TEMPLATE_MAX_OUTPUT  # bits of the result


def render_bounded(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """The template's output, or LimitExceeded once it grows past TEMPLATE_MAX_OUTPUT characters or
    TEMPLATE_MAX_SECONDS seconds."""
    budget = _Budget(time.monotonic() + TEMPLATE_MAX_SECONDS)
    token = _BUDGET.set(budget)
    try:
        with _alarm(budget):
            parts: list[str] = []
            size = 0
            for chunk in template.generate(context):
                size += len(chunk)
                if size > TEMPLATE_MAX_OUTPUT:
                    raise LimitExceeded(f"the output is longer than {TEMPLATE_MAX_OUTPUT:,} characters")
                budget.check_clock()
                parts.append(chunk)
            return "".join(parts)
    finally:
        _BUDGET.reset(token)


@contextlib.contextmanager
def _alarm(budget: _Budget) -> Iterator[None]:
    """A SIGALRM every 0.1 s that checks the deadline, in the main thread only (signals go there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def check(signum: int, frame: FrameType | None) -> None:
        budget.check_clock()

    previous = signal.signal(signal.SIGALRM, check)
    signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
