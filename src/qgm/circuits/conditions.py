"""Conditions on measured bitstrings: which basis states of ``n`` wires are *accepted*.

A :class:`Condition` is the predicate of conditional sampling and of the oracle of
amplitude amplification. It is built by :func:`as_condition` from any of

* a dict of fixed bits ``{wire: bit}`` (keys ints or ``"x3"`` strings), e.g. ``{0: 1, 4: 0}``;
* a string of fixed bits ``"x0=1,x4=0"`` (commas and/or spaces between terms);
* a list (or 1-D integer tensor/array) of allowed basis indices;
* a boolean mask ``(2**n,)`` over basis indices;
* a Python function ``f(bits) -> (2**n,)`` booleans over the bit table ``bits``
  (LongTensor ``(2**n, n)`` of 0/1, column 0 = wire 0), evaluated once on every basis
  state (so ``n <= MAX_FUNCTION_BITS``);
* a :class:`Condition` (returned as is when it has ``n`` wires).

Wire 0 is the most significant bit of a basis index (the qgm convention). The
condition is stored as a boolean mask ``(2**n,)``; fixed-bit conditions also keep
their bits, so the gate-level oracle is one multi-controlled phase.

:meth:`Condition.cubes` covers the accepted set by disjoint *cubes* (partial
assignments ``{wire: bit}``); each cube is one multi-controlled phase in
:mod:`qgm.circuits.oracles`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import numpy as np
import torch

from qgm.errors import ParameterError, ResourceError
from qgm.spaces import Bits

__all__ = ["Condition", "ConditionLike", "as_condition", "parse_fixed_bits", "MAX_CONDITION_BITS", "MAX_FUNCTION_BITS"]

#: Largest number of wires a condition's mask ``(2**n,)`` is built for (64 MiB of booleans).
MAX_CONDITION_BITS = 26
#: Largest number of wires a Python predicate is evaluated on (``2**n`` rows of bits).
MAX_FUNCTION_BITS = 20

Cube = dict[int, int]
ConditionLike = Union["Condition", Mapping[Any, Any], str, Sequence[int], torch.Tensor, np.ndarray, Callable[..., Any]]

_TERM = re.compile(r"^x(\d+)=([01])$")


@dataclass(frozen=True, eq=False)
class Condition:
    """An accepted set of basis states of ``n`` wires (see the module docstring).

    Attributes:
        n: number of wires.
        mask: BoolTensor ``(2**n,)``, ``mask[x]`` = basis index ``x`` is accepted.
        description: one line for messages and reports, e.g. ``"x0=1,x4=0"``.
        fixed: the fixed bits ``{wire: bit}`` when the condition is a conjunction of them, else None.
    """

    n: int
    mask: torch.Tensor
    description: str
    fixed: Optional[Cube] = field(default=None)

    @property
    def n_accepted(self) -> int:
        """Number of accepted basis states."""
        return int(self.mask.sum())

    def accepts(self, x: torch.Tensor) -> torch.Tensor:
        """BoolTensor ``(N,)``: which basis indices ``x`` (LongTensor ``(N,)``) are accepted."""
        return self.mask.to(x.device)[x]

    def probability(self, p: torch.Tensor) -> float:
        """Accepted mass ``Σ_{x accepted} p[x]`` of a distribution ``p`` ``(2**n,)``."""
        return float(p.detach().to(torch.float64)[self.mask.to(p.device)].sum())

    def cubes(self) -> list[Cube]:
        """Disjoint partial assignments ``{wire: bit}`` whose union is the accepted set.

        A fixed-bit condition is one cube. Otherwise the mask is split wire by wire
        (wire 0 first); a wire whose two halves agree is left free, and a half that is
        all accepted (or all rejected) ends its branch. ``[{}]`` accepts everything and
        ``[]`` nothing.
        """
        if self.fixed is not None:
            return [dict(self.fixed)]
        out: list[Cube] = []
        _cover(self.mask.cpu().numpy(), 0, {}, out)
        return out

    def complement(self) -> "Condition":
        """The rejected set as a condition."""
        return Condition(self.n, ~self.mask, f"not ({self.description})")


def _cover(block: np.ndarray, wire: int, fixed: Cube, out: list[Cube]) -> None:
    """Append to ``out`` the cubes covering the accepted entries of ``block`` (wires ``wire..``)."""
    if not block.any():
        return
    if block.all():
        out.append(dict(fixed))
        return
    half = block.size // 2
    low, high = block[:half], block[half:]
    if np.array_equal(low, high):
        _cover(low, wire + 1, fixed, out)
        return
    _cover(low, wire + 1, {**fixed, wire: 0}, out)
    _cover(high, wire + 1, {**fixed, wire: 1}, out)


def _check_n(n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError(f"n: expected a positive number of wires, got {n!r}")
    if n > MAX_CONDITION_BITS:
        raise ResourceError(
            f"condition: a mask over 2**{n} basis states is too large; conditions go up to {MAX_CONDITION_BITS} wires"
        )
    return int(n)


def _wire(key: Any, n: int) -> int:
    if isinstance(key, str) and re.fullmatch(r"x\d+", key.strip()):
        key = int(key.strip()[1:])
    if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n:
        raise ParameterError(f"condition: wire {key!r} is not one of x0..x{n - 1} (ints 0..{n - 1} or 'x0'..'x{n - 1}')")
    return int(key)


def parse_fixed_bits(text: str, n: int) -> Cube:
    """``{wire: bit}`` of a string like ``"x0=1,x4=0"`` (terms separated by commas and/or spaces)."""
    terms = [t for t in re.split(r"[,\s]+", text.strip()) if t]
    if not terms:
        raise ParameterError("condition: empty string; write fixed bits like 'x0=1,x4=0'")
    bits: dict[Any, Any] = {}
    for term in terms:
        m = _TERM.match(term)
        if m is None:
            raise ParameterError(f"condition: cannot read {term!r} in {text!r}; write fixed bits like 'x0=1,x4=0'")
        if f"x{m.group(1)}" in bits:
            raise ParameterError(f"condition: x{m.group(1)} is fixed twice in {text!r}; fix each bit once")
        bits[f"x{m.group(1)}"] = int(m.group(2))
    return _fixed(bits, n)


def _fixed(bits: Mapping[Any, Any], n: int) -> Cube:
    out: Cube = {}
    for key, value in bits.items():
        w = _wire(key, n)
        if w in out:
            raise ParameterError(f"condition: wire {w} is fixed twice; fix each bit once")
        if isinstance(value, (bool, np.bool_)) or value in (0, 1):
            out[w] = int(value)
        else:
            raise ParameterError(f"condition: x{w} must be fixed to 0 or 1, got {value!r}")
    return dict(sorted(out.items()))


def _fixed_mask(bits: Cube, n: int) -> torch.Tensor:
    idx = torch.arange(1 << n)
    mask = torch.ones(1 << n, dtype=torch.bool)
    for w, b in bits.items():
        mask &= ((idx >> (n - 1 - w)) & 1) == b
    return mask


def _bit_table(n: int) -> torch.Tensor:
    """LongTensor ``(2**n, n)`` of the bits of every basis index (column 0 = wire 0)."""
    return torch.from_numpy(Bits(n).to_numpy(np.arange(1 << n)))


def _from_function(fn: Callable[..., Any], n: int) -> torch.Tensor:
    if n > MAX_FUNCTION_BITS:
        raise ResourceError(
            f"condition: a Python predicate is evaluated on all 2**{n} basis states; use it for n <= "
            f"{MAX_FUNCTION_BITS} wires, or give fixed bits"
        )
    out = torch.as_tensor(np.asarray(fn(_bit_table(n))))
    if out.shape != (1 << n,) or not (out.dtype == torch.bool or not out.is_floating_point()):
        raise ParameterError(
            f"condition: the predicate must return {1 << n} booleans (one per row of bits), got {out.dtype} "
            f"of shape {tuple(out.shape)}"
        )
    if out.dtype != torch.bool and bool(((out != 0) & (out != 1)).any()):
        raise ParameterError("condition: the predicate returned integers other than 0/1; return booleans")
    return out.to(torch.bool)


def _from_array(a: Any, n: int) -> tuple[torch.Tensor, str]:
    t = torch.as_tensor(np.asarray(a.cpu() if isinstance(a, torch.Tensor) else a))
    if t.numel() == 0:  # an empty list reads as float64: no allowed state
        t = t.to(torch.int64).reshape(0)
    if t.dtype == torch.bool:
        if t.shape != (1 << n,):
            raise ParameterError(f"condition: a boolean mask needs shape ({1 << n},) for {n} wires, got {tuple(t.shape)}")
        return t.clone(), f"mask of {int(t.sum())} states"
    if t.dim() != 1 or t.is_floating_point() or t.is_complex():
        raise ParameterError(
            f"condition: expected a list of basis indices (ints) or a boolean mask ({1 << n},), got "
            f"{t.dtype} of shape {tuple(t.shape)}"
        )
    idx = t.to(torch.int64)
    if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= 1 << n):
        raise ParameterError(f"condition: basis indices must lie in 0..{(1 << n) - 1} for {n} wires")
    mask = torch.zeros(1 << n, dtype=torch.bool)
    mask[idx] = True
    return mask, f"{int(mask.sum())} allowed states"


def as_condition(condition: ConditionLike, n: int) -> Condition:
    """A :class:`Condition` on ``n`` wires from any accepted form (see the module docstring)."""
    n = _check_n(n)
    if isinstance(condition, Condition):
        if condition.n != n:
            raise ParameterError(f"condition: built for {condition.n} wires, the model has {n}")
        return condition
    if isinstance(condition, str):
        bits = parse_fixed_bits(condition, n)
    elif isinstance(condition, Mapping):
        bits = _fixed(condition, n)
    elif callable(condition):
        return Condition(n, _from_function(condition, n), getattr(condition, "__name__", "predicate"))
    elif isinstance(condition, (list, tuple, torch.Tensor, np.ndarray)):
        mask, text = _from_array(condition, n)
        return Condition(n, mask, text)
    else:
        raise ParameterError(
            f"condition: expected fixed bits ({{wire: bit}} or 'x0=1,x4=0'), basis indices, a boolean mask or a "
            f"predicate over bits, got {type(condition).__name__}"
        )
    text = ",".join(f"x{w}={b}" for w, b in bits.items()) or "true"
    return Condition(n, _fixed_mask(bits, n), text, bits)
