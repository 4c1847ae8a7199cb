"""Python checks across the process boundary: the value codec, and the semantics the checks see.

The codec is the only thing that crosses from the candidate's process to the checker's, so it must decode
faithfully (types kept: list vs tuple, set vs frozenset, bool vs int, huge ints, nan) and refuse everything
else without executing or building anything but plain values.
"""

from __future__ import annotations

import json
import math
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jacode.sandbox.checks import PythonCheck, run_checks
from jacode.sandbox.isolation import Limits, Sandbox
from jacode.sandbox.runtime.pycheck import NonData, ProtocolError, decode, encode

scalars = st.none() | st.booleans() | st.integers() | st.integers(min_value=-(2**300), max_value=2**300) | \
    st.floats(allow_nan=False) | st.text() | st.binary() | st.complex_numbers(allow_nan=False)
hashable = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
                        max_leaves=8)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.sets(hashable, max_size=4)
    | st.frozensets(hashable, max_size=3) | st.dictionaries(hashable, inner, max_size=4)
    | st.builds(bytearray, st.binary(max_size=8)), max_leaves=20)


def same(a, b) -> bool:
    """Equal and of the same types all the way down (== alone says True == 1 and (1,) != [1] only sometimes)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@settings(max_examples=300, deadline=None)
@given(values)
def test_codec_round_trip_keeps_types(value):
    assert same(decode(json.dumps(encode(value))), value)


def test_codec_special_values():
    nan = decode(json.dumps(encode(float("nan"))))
    assert isinstance(nan, float) and math.isnan(nan)
    assert same(decode(json.dumps(encode([True, 1, 1.0, -0.0, 10**5000]))), [True, 1, 1.0, -0.0, 10**5000])
    assert list(decode(json.dumps(encode(x for x in range(3))))) == [0, 1, 2]  # a generator: an iterator
    assert decode(json.dumps(encode(range(2, 9, 3)))) == range(2, 9, 3)
    assert decode(json.dumps(encode({"a": 1}.keys()))) == {"a"}  # keys view: set-like, as in one process
    from collections import Counter, OrderedDict, namedtuple

    point = namedtuple("Point", "x y")
    assert same(decode(json.dumps(encode([Counter("aab"), OrderedDict(a=1), point(1, 2)]))),
                [{"a": 2, "b": 1}, {"a": 1}, (1, 2)])


class AlwaysEqual:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize("value", [AlwaysEqual(), object(), lambda: 1, type, print, Exception("x"),
                                   [1, AlwaysEqual()], {"k": AlwaysEqual()}])
def test_non_data_is_refused(value):
    with pytest.raises(NonData):
        encode(value)


def test_int_subclass_that_lies_is_refused():
    class Liar(int):
        def __eq__(self, other):
            return True

    with pytest.raises(NonData):
        encode(Liar(3))


@pytest.mark.parametrize("text", [
    '{"t": [1], "x": 2}', '{"zz": 1}', '{"I": "not hex"}', '{"s": [[1]]}', '{"d": [[1]]}', '{"r": [1, "a", 3]}',
    '{"c": [1]}', '{"b": "!!"}', "[" * 100000 + "]" * 100000, '{"__class__": "x"}', "1e99999x", "",
])
def test_decoder_refuses_garbage(text):
    with pytest.raises(ProtocolError):
        decode(text)


def _check(candidate: str, tests: str, names=("f",), **kw) -> PythonCheck:
    return PythonCheck(candidate=candidate, tests=tests, names=names, **kw)


@pytest.mark.usefixtures("bwrap")
def test_semantics_the_checks_see():
    """What test code observes across the boundary matches one process where it matters for verdicts."""
    cases = {
        # in-place mutation of an argument is seen by the checks, as in one process
        "mutation": (_check("def f(xs):\n    xs.sort()\n", "x = [3, 1, 2]\nf(x)\nassert x == [1, 2, 3]\n"), True),
        # the candidate's exceptions reach the test code as the same builtin class
        "exception": (_check("def f(x):\n    raise ValueError('no')\n",
                             "try:\n    f(1)\nexcept ValueError as e:\n    assert str(e) == 'no'\nelse:\n"
                             "    assert False\n"), True),
        # ... but a StopIteration cannot end the test's own iteration early (all() of nothing is True)
        "stopiteration": (_check("def f(x):\n    raise StopIteration\n", "assert all(map(f, [1, 2]))\n"), False),
        # the entry point's own name is the candidate too (HumanEval/33 calls it by name)
        "by_name": (_check("def f(x):\n    return x + 1\n", "assert f(1) == candidate(1) == 2\n"), True),
        "generator": (_check("def f(n):\n    return (i for i in range(n))\n", "assert tuple(f(3)) == (0, 1, 2)\n"),
                      True),
        "always_equal": (_check("class E:\n    def __eq__(self, o):\n        return True\n"
                                "def f(x):\n    return E()\n", "assert f(1) == 2\n"), False),
        "kwargs": (_check("def f(a, b=0):\n    return a - b\n", "assert f(b=1, a=3) == 2\n"), True),
        "missing": (_check("def g():\n    pass\n", "assert f(1) is None\n"), False),
    }
    with Sandbox(Limits(timeout_s=10.0)) as sb:
        verdicts = run_checks([c for c, _ in cases.values()], sb, workers=2)
    for i, (name, (_, want)) in enumerate(cases.items()):
        assert verdicts[i].passed == want, (name, verdicts[i])
    assert "non-data return value" in verdicts[list(cases).index("always_equal")].detail


@pytest.mark.usefixtures("bwrap")
def test_tests_never_enter_the_candidates_memory():
    """The candidate reads its whole address space: the test code (with its expected values) is not there."""
    scan = textwrap.dedent(r"""
        import re
        found = 0  # the pattern has no digits, so it cannot find itself
        with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb') as mem:
            for line in maps:
                addr, perms = line.split()[:2]
                if not perms.startswith('r'):
                    continue
                lo, hi = (int(x, 16) for x in addr.split('-'))
                try:
                    mem.seek(lo)
                    m = re.search(rb'EXPECTED_SECRET_(\d{4})', mem.read(hi - lo))
                    if m:
                        found = int(m.group(1))
                except (OSError, ValueError, OverflowError):
                    pass
        def f(x):
            return found
        """)
    with Sandbox(Limits(timeout_s=20.0)) as sb:
        # Several jobs on the same warm server: nothing of an earlier job's tests or facts leaks either.
        checks = [_check(scan, f"# EXPECTED_SECRET_4242 run {i}\nassert f(1) == 4242\n") for i in range(3)]
        # The scan works: a secret that is in the candidate's memory (built at run time) is found.
        control = "planted = ('EXPECTED_SECRET_' + str(4242)).encode()\n" + scan
        checks.append(_check(control, "assert f(1) == 4242\n"))
        # Nor does an earlier sample's code: a later candidate on the same server cannot copy it.
        checks.append(_check("# EXPECTED_SECRET_4242 in an earlier candidate\ndef f(x):\n    return 4242\n",
                             "assert f(1) == 4242\n"))
        checks.append(_check(scan, "assert f(1) == 4242\n"))
        verdicts = run_checks(checks, sb, workers=1, dedup=False)
    assert [v.status for v in verdicts.values()] == ["fail"] * 3 + ["pass", "pass", "fail"], verdicts
