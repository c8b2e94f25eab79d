"""Reusable state-sized buffers: no fresh state allocation on the engine's hot path.

On the reference machine the first write to freshly allocated memory costs up to
17× a write into memory already touched (the kernel maps and zeroes every page:
16 MiB 33.7 ms vs 1.9 ms under load; 256 MiB 142 ms vs 32 ms idle). The engine
therefore keeps, per (plan, batch size, dtype, device, thread), a small set of
named buffer stacks — ping-pong states for the forward and backward sweeps,
the states backprop keeps, the gradients a batched reduction reads — and reuses
them on every call. The only fresh state a call allocates is the one it returns.

A stack carries a generation number, bumped whenever a forward pass claims it
for saved states; a backward pass that finds its stack claimed by a later call
recomputes instead of reading overwritten states (two graphs of the same circuit
alive at once stay correct). Buffers are released least-recently-used beyond
:data:`MAX_BYTES` (one workspace larger than that is kept alone), or by
:func:`clear_workspaces`.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

import torch

__all__ = ["Workspace", "workspace", "clear_workspaces", "MAX_BYTES"]

#: Bytes of buffers kept across calls (least recently used first out).
MAX_BYTES = 4 * 2**30


class Workspace:
    """Named stacks of state buffers ``(count, batch, dim)`` of one dtype and device."""

    def __init__(self, batch: int, dim: int, dtype: torch.dtype, device: torch.device) -> None:
        self.batch, self.dim, self.dtype, self.device = batch, dim, dtype, device
        self._stacks: dict[str, torch.Tensor] = {}
        self.version = 0  # bumped when a stack is (re)allocated: views made earlier are stale
        self.generation: dict[str, int] = {}
        self.memo: dict[str, Any] = {}  # what is built on these buffers (the executable)

    @property
    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self._stacks.values())

    def stack(self, name: str, count: int) -> torch.Tensor:
        """A ``(count, batch, dim)`` buffer (contents undefined), reused while ``count`` fits."""
        t = self._stacks.get(name)
        if t is None or t.shape[0] < count:
            self._stacks.pop(name, None)  # free the old one before allocating the larger
            t = torch.empty(max(count, 1), self.batch, self.dim, dtype=self.dtype, device=self.device)
            self._stacks[name] = t
            self.version += 1
            _trim()
        return t[:count]

    def claim(self, name: str) -> int:
        """Mark stack ``name`` as written by a new forward pass; returns its generation."""
        self.generation[name] = self.generation.get(name, 0) + 1
        return self.generation[name]

    def holds(self, name: str, generation: int) -> bool:
        """Whether stack ``name`` still holds what the forward pass of ``generation`` wrote."""
        return self.generation.get(name) == generation


_WORKSPACES: "OrderedDict[tuple, tuple[Any, Workspace]]" = OrderedDict()
_LOCK = threading.Lock()


def workspace(owner: Any, batch: int, dim: int, dtype: torch.dtype, device: torch.device) -> Workspace:
    """The workspace of ``owner`` (a plan; kept alive with it) for this call's shape and thread."""
    key = (id(owner), batch, dim, dtype, device, threading.get_ident())
    with _LOCK:
        hit = _WORKSPACES.get(key)
        if hit is None or hit[0] is not owner:
            hit = (owner, Workspace(batch, dim, dtype, device))
            _WORKSPACES[key] = hit
        _WORKSPACES.move_to_end(key)
    return hit[1]


def _trim() -> None:
    """Drop least-recently-used workspaces while the total exceeds :data:`MAX_BYTES`."""
    with _LOCK:
        total = sum(ws.nbytes for _, ws in _WORKSPACES.values())
        while total > MAX_BYTES and len(_WORKSPACES) > 1:
            _, (_, ws) = _WORKSPACES.popitem(last=False)
            total -= ws.nbytes


def clear_workspaces() -> None:
    """Release every buffer the engine keeps between calls (the next call allocates afresh)."""
    with _LOCK:
        _WORKSPACES.clear()
