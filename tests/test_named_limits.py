"""Named limits and bounded messages: every refusal names the number it would have needed; YAML guards."""
import math
import time

import pytest

from qgm import limits
from qgm.errors import MAX_MESSAGE_CHARS, ConfigError, QGMError, ResourceError, brief, key_name
from qgm.limits import (
    MAX_ANSATZ_CELLS,
    MAX_BITS,
    check_ansatz_size,
    check_bits,
    check_bytes,
    check_samples,
    check_seed,
    check_state,
    element_bytes,
    format_bytes,
    memory_budget,
)
from qgm.spaces import Bits, DensityMatrices, Graphs, Images, PureStates, Reals
from qgm.yaml_io import yaml_load
from reference import refused_quickly


def test_brief_is_bounded_in_size_and_time():
    bomb = ["x"]
    for _ in range(30):
        bomb = [bomb] * 10  # 10**30 leaves when expanded
    start = time.perf_counter()
    assert len(brief(bomb)) <= 80 and brief(bomb).startswith("[[[")
    assert brief("short") == "'short'" and len(brief("y" * 10**6)) <= 80 and len(brief(10**400)) <= 80
    assert time.perf_counter() - start < 1.0
    assert key_name("steps") == "steps" and key_name(3) == "3" and key_name("a\nb") == "'a\\nb'"


def test_messages_are_clipped():
    exc = ConfigError("x" * 5000)
    assert len(str(exc)) < MAX_MESSAGE_CHARS + 40 and str(exc).endswith("[4000 more characters]")
    assert str(QGMError("short")) == "short" and isinstance(ResourceError("a"), MemoryError)


def test_memory_budget_from_the_environment(monkeypatch):
    for text, value in (("8GiB", 8 * 2**30), ("500MB", 500 * 10**6), ("1e9", 10**9), ("123", 123)):
        monkeypatch.setenv("QGM_MEMORY_LIMIT", text)
        assert memory_budget() == (value, "$QGM_MEMORY_LIMIT")
    monkeypatch.setenv("QGM_MEMORY_LIMIT", "lots")
    with pytest.raises(ConfigError, match="QGM_MEMORY_LIMIT='lots': expected bytes or a size such as 8GiB"):
        memory_budget()
    monkeypatch.delenv("QGM_MEMORY_LIMIT")
    assert memory_budget()[0] > 0


def test_refusals_name_what_was_needed(monkeypatch):
    monkeypatch.setenv("QGM_MEMORY_LIMIT", "1GiB")
    check_state(20)  # 4 x 16 MiB: fine
    with pytest.raises(ResourceError, match=r"^n_qubits: 60 qubits need 64.0 EiB \(4 x 1 state vectors of 2\*\*60 "
                                            r"complex128 amplitudes\), more than the memory budget of 1.0 GiB "
                                            r"\(\$QGM_MEMORY_LIMIT\); at most 24 qubits fit$"):
        check_state(60)
    with pytest.raises(ResourceError, match=r"^n_qubits: 1000000000000000000000000000000 qubits need about "
                                            r"2\*\*1000000000000000000000000000006 B"):
        check_state(10**30)  # never computes 2**(10**30)
    with pytest.raises(ResourceError, match=r"^--n: 10000000000 samples of Bits\(4\) \(8 B each\) needs 298.0 GiB"):
        check_samples(10**10, Bits(4), "--n")
    check_samples(10**6, Bits(4), "--n")
    with pytest.raises(ResourceError, match=r"^x: a thing needs 2.0 GiB, more than the memory budget of 1.0 GiB .*; fix it$"):
        check_bytes(2 * 2**30, "x", "a thing", "fix it")
    check_bytes(limits.SMALL_BYTES - 1, "x", "a small thing", "")  # never refused, budget not read


def test_element_sizes_and_bytes_format():
    sizes = [element_bytes(s) for s in (Bits(3), Reals(2), Images(2, 3), PureStates(2), DensityMatrices(1),
                                        Graphs(3, 2, 2))]
    assert sizes == [8, 16, 48, 64, 64, 96] and element_bytes(PureStates(10**6)) == 16 << 200
    assert [format_bytes(b) for b in (5, 1536, 3 * 2**30, 2.0**62, 2.0**70, 2.0**1000)] == [
        "5 B", "1.5 KiB", "3.0 GiB", "4.0 EiB", "about 2**70 B", "about 2**1000 B"]


def test_bits_ansatz_and_seed_limits():
    check_bits(MAX_BITS, "n")
    with pytest.raises(ResourceError, match=r"^n: 30 bits would need \(2\*\*30,\) vectors \(17.0 GiB\); datasets hold "
                                            r"at most MAX_BITS=24 bits \(qgm.limits\); use fewer bits$"):
        check_bits(30, "n")
    check_ansatz_size(MAX_ANSATZ_CELLS // 4, 4)
    with pytest.raises(ResourceError, match="depth: 1000000 layers on 4 qubits is 4,000,000 layer-qubits, over "
                                            "MAX_ANSATZ_CELLS=4,000"):
        check_ansatz_size(10**6, 4)
    assert check_seed(2**63 - 1) == 2**63 - 1
    for bad in (-1, 2**63, 1.0, True, "1", math.nan):
        with pytest.raises(ConfigError, match=r"^seed: expected an integer seed in \[0, 2\*\*63 - 1\]"):
            check_seed(bad)


@pytest.mark.parametrize("text, message", [
    ("a: &a [1, *a]", "line 1: an alias refers to a node that contains it"),
    ("a: 1\nb: 2\na: 3\n", "line 3: key 'a' appears twice in one mapping (first on line 1); keep one"),
    ("a:\n  b: 1\n  b: 1\n", "line 3: key 'b' appears twice"),
    ("a: " + "[" * 100 + "]" * 100, "line 1: nesting deeper than MAX_YAML_DEPTH=64"),
    ("a:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 80)), "nesting deeper than MAX_YAML_DEPTH=64"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"b{i}: &a{i} [{', '.join([f'*a{i - 1}' if i > 1 else '*a'] * 10)}]\n" for i in range(1, 7)),
     "expands to more than MAX_YAML_NODES=100,000 nodes"),
    ("a: 1" + "1" * 5000, "a value cannot be read (Exceeds the limit"),
    ("a: !!int", "a value cannot be read"),
    ("a: \x00", "not valid YAML"),
    ("a: [", "not valid YAML"),
])
def test_yaml_guards(text, message):
    refused_quickly(lambda: yaml_load(text, "t.yaml"), "t.yaml: ", message, seconds=2.0)


def test_yaml_reads_what_it_should():
    assert yaml_load("a: 1e-3\nb: '[[[['\nc: \"{{\" # [[[[\nd: don't [x]\n<<: {e: 1}\n") == {
        "a": 1e-3, "b": "[[[[", "c": "{{", "d": "don't [x]", "e": 1}
    shared = yaml_load("a: &a [1, 2]\nb: *a\nc: *a\n")
    assert shared == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}
    assert yaml_load("a: " + "[" * 60 + "]" * 60) is not None  # nesting within the limit


def test_sizes_beyond_a_float_are_reported_not_overflowed():
    assert format_bytes(10**400) == f"about 2**{(10**400).bit_length() - 1} B"
    with pytest.raises(ResourceError, match=r"^train.batch_size: 10{400} samples of Bits\(4\) .* needs about 2\*\*1333 B"):
        check_samples(10**400, Bits(4), "train.batch_size")
