"""Values from compiled-language programs: a strict decoder of the results channel and per-language equality.

The candidate's program is attacker-controlled, so what it writes is only ever *data*: this module turns the
bytes into small immutable `Value`s (never evaluating anything, bounded in depth and size) and decides
equality the way the test's own operator would have, in the language the test was written in.

Wire format v1 (file descriptor 3, bytes):

    stream := record*
    record := 'R' index ' ' value '\\n'      the value of check `index` (decimal)
            | 'E' index ' ' string '\\n'     evaluating check `index` threw; the string says what
    value  := 'n'                 null (Java/C# null, JS null)
            | 'u'                 JS undefined
            | 'b0' | 'b1'         boolean
            | 'i' int ';'         32-bit integral (C++ int and narrower, Java int/Integer, C# int)
            | 'l' int ';'         64-bit integral (C++ long/long long, Java long/Long, C# long)
            | 'g' int ';'         unbounded integer: JS BigInt, C++ __int128
            | 'c' int ';'         a char (C++ char, Java char/Character, C# char): its code unit value
            | 'f' hex8 ';'        32-bit IEEE float, its bits as 8 lowercase hex digits
            | 'd' hex16 ';'       64-bit IEEE double, its bits as 16 lowercase hex digits (every JS number)
            | string              UTF-8 (lone UTF-16 surrogates as 3-byte sequences); C++: the raw bytes
            | 'L' n ':' value{n}  list / vector / array / ArrayList / List<T> / JS array
            | 'T' n ':' value{n}  tuple / pair / javatuples (n tells the class) / System.Tuple
            | 'M' n ':' (value value){n}   map / HashMap / Dictionary / JS plain object, in iteration order
            | 'O' value           engaged optional (C++ std::optional, Java Optional.of)
            | 'o'                 empty optional
            | 'N'                 std::nullopt itself (C++)
            | 'V' idx ':' value   C++ std::variant or MultiPL-E Union_* value with its active alternative
            | '?' string          a value the serializer cannot represent (its type); never equal to anything
    string := 's' len ':' bytes   len = byte count
    int    := '-'? digits         canonical decimal (no leading zeros, no "-0")
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from typing import Union

MAX_DEPTH = 100
MAX_VALUES = 1_000_000  # values per stream (a few hundred bytes of memory each at most); MultiPL-E's are tiny
MAX_INT_DIGITS = 4000  # below Python's int/str conversion limit (4300)
INT_RANGE = {"i": (-(2**31), 2**31 - 1), "l": (-(2**63), 2**63 - 1), "c": (-128, 0x10FFFF)}
FLOAT_DIGITS = {"f": 8, "d": 16}

Payload = Union[None, bool, int, bytes, tuple, "Value"]


@dataclass(frozen=True, slots=True)
class Value:
    """One decoded value: its wire tag and payload.

    n u o N: None; b: bool; i l g c: int; f d: the IEEE bits as int; s: bytes; ?: bytes (the type name);
    L T: tuple of Values; M: tuple of (key, value) pairs; O: Value; V: (index, Value).
    """

    tag: str
    data: Payload = None

    def as_float(self) -> float:
        if self.tag == "f":
            return struct.unpack("<f", struct.pack("<I", self.data))[0]
        if self.tag == "d":
            return struct.unpack("<d", struct.pack("<Q", self.data))[0]
        raise TypeError(f"not a float: {self.tag}")


@dataclass(frozen=True, slots=True)
class Record:
    kind: str  # "R" (a value) or "E" (the check threw)
    index: int
    value: Value | None = None
    error: str | None = None


_ATOMS = {"n": Value("n"), "u": Value("u"), "o": Value("o"), "N": Value("N"), "b0": Value("b", False),
          "b1": Value("b", True)}


class DecodeError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(f"{message} at byte {offset}")
        self.offset = offset


class _Truncated(DecodeError):
    pass


_DIGITS = re.compile(rb"-?(0|[1-9][0-9]*)")
_HEX = {n: re.compile(rb"[0-9a-f]{%d};" % n) for n in (8, 16)}


class _Reader:
    def __init__(self, data: bytes, max_values: int = MAX_VALUES):
        self.data = data
        self.pos = 0
        self.budget = max_values

    def need(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise _Truncated("stream ends inside a record", len(self.data))

    def byte(self) -> str:
        self.need(1)
        b = self.data[self.pos]
        self.pos += 1
        return chr(b)

    def expect(self, ch: str) -> None:
        start = self.pos
        if self.byte() != ch:
            raise DecodeError(f"expected {ch!r}", start)

    def integer(self, max_digits: int = MAX_INT_DIGITS) -> int:
        m = _DIGITS.match(self.data, self.pos, self.pos + max_digits + 2)
        if not m:
            self.need(1)
            raise DecodeError("expected an integer", self.pos)
        text = m.group(0)
        if text == b"-0":
            raise DecodeError("non-canonical integer", self.pos)
        if len(text.lstrip(b"-")) > max_digits:
            raise DecodeError("integer too long", self.pos)
        self.pos = m.end()
        if self.pos >= len(self.data):
            raise _Truncated("stream ends inside an integer", self.pos)
        return int(text)

    def count(self) -> int:
        """A length or element count: never more than the bytes left (each element takes at least one)."""
        start = self.pos
        n = self.integer(max_digits=19)
        if n < 0:
            raise DecodeError("negative count", start)
        self.expect(":")
        if n > len(self.data) - self.pos:
            raise _Truncated("count beyond the end of the stream", start)
        return n

    def string(self) -> bytes:
        self.expect("s")
        n = self.count()
        out = self.data[self.pos: self.pos + n]
        self.pos += n
        return out

    def value(self, depth: int) -> Value:
        if depth > MAX_DEPTH:
            raise DecodeError("nested too deep", self.pos)
        self.budget -= 1
        if self.budget < 0:
            raise DecodeError("too many values", self.pos)
        start = self.pos
        tag = self.byte()
        if tag in "nuoN":
            return _ATOMS[tag]
        if tag == "b":
            b = self.byte()
            if b not in "01":
                raise DecodeError("bad boolean", start)
            return _ATOMS[tag + b]
        if tag in "ilgc":
            v = self.integer()
            self.expect(";")
            lo_hi = INT_RANGE.get(tag)
            if lo_hi and not lo_hi[0] <= v <= lo_hi[1]:
                raise DecodeError(f"{tag!r} value out of range", start)
            return Value(tag, v)
        if tag in "fd":
            n = FLOAT_DIGITS[tag]
            m = _HEX[n].match(self.data, self.pos)
            if not m:
                self.need(n + 1)
                raise DecodeError("bad float bits", start)
            self.pos = m.end()
            return Value(tag, int(self.data[start + 1: start + 1 + n], 16))
        if tag == "s":
            self.pos = start
            return Value("s", self.string())
        if tag == "?":
            return Value("?", self.string())
        if tag in "LT":
            n = self.count()
            return Value(tag, tuple(self.value(depth + 1) for _ in range(n)))
        if tag == "M":
            n = self.count()
            return Value("M", tuple((self.value(depth + 1), self.value(depth + 1)) for _ in range(n)))
        if tag == "O":
            return Value("O", self.value(depth + 1))
        if tag == "V":
            idx = self.integer(max_digits=4)
            if idx < 0:
                raise DecodeError("negative variant index", start)
            self.expect(":")
            return Value("V", (idx, self.value(depth + 1)))
        raise DecodeError(f"unknown tag {tag!r}", start)


def decode_value(data: bytes) -> Value:
    """Exactly one value, nothing after it."""
    r = _Reader(data)
    v = r.value(0)
    if r.pos != len(data):
        raise DecodeError("bytes after the value", r.pos)
    return v


@dataclass(frozen=True)
class Stream:
    records: tuple[Record, ...]
    problem: str | None = None  # None: every byte was a complete, well-formed record
    truncated: bool = False  # the problem is only that the last record is incomplete (the program ended)


def decode_stream(data: bytes, max_records: int = 100_000, max_values: int = MAX_VALUES) -> Stream:
    """Records up to the first malformed one; what follows a malformed byte is not trusted at all."""
    r = _Reader(data, max_values)
    records: list[Record] = []
    while r.pos < len(data):
        start = r.pos
        try:
            if len(records) >= max_records:
                raise DecodeError("too many records", start)
            kind = r.byte()
            if kind not in "RE":
                raise DecodeError(f"unknown record kind {kind!r}", start)
            index = r.integer(max_digits=9)
            if index < 0:
                raise DecodeError("negative check index", start)
            r.expect(" ")
            if kind == "R":
                rec = Record("R", index, value=r.value(0))
            else:
                rec = Record("E", index, error=r.string().decode("utf-8", "replace"))
            r.expect("\n")
        except _Truncated as e:
            return Stream(tuple(records), f"incomplete last record ({e})", truncated=True)
        except DecodeError as e:
            return Stream(tuple(records), f"malformed record: {e}")
        records.append(rec)
    return Stream(tuple(records))


# ---- rendering, for verdict details --------------------------------------------------------------------------
def _render_float(v: Value) -> str:
    x = v.as_float()
    text = repr(x) if math.isfinite(x) else {"inf": "Infinity", "-inf": "-Infinity"}.get(repr(x), "NaN")
    return text + ("f" if v.tag == "f" else "")


def render(v: Value | None, limit: int = 300) -> str:
    out: list[str] = []
    budget = [limit]

    def emit(s: str) -> None:
        out.append(s)
        budget[0] -= len(s)

    def walk(x: Value) -> None:
        if budget[0] <= 0:
            return
        t, d = x.tag, x.data
        if t in "ilcg":
            emit({"i": f"{d}", "l": f"{d}L", "g": f"{d}n", "c": f"char({d})"}[t])
        elif t in "fd":
            emit(_render_float(x))
        elif t == "b":
            emit("true" if d else "false")
        elif t in "nuoN":
            emit({"n": "null", "u": "undefined", "o": "empty optional", "N": "nullopt"}[t])
        elif t == "s":
            emit(_quote(d))
        elif t == "?":
            emit(f"<unrepresentable {d.decode('utf-8', 'replace')}>")
        elif t in "LT":
            emit("[" if t == "L" else "(")
            for i, item in enumerate(d):
                if i:
                    emit(", ")
                walk(item)
            emit("]" if t == "L" else ")")
        elif t == "M":
            emit("{")
            for i, (k, item) in enumerate(d):
                if i:
                    emit(", ")
                walk(k)
                emit(": ")
                walk(item)
            emit("}")
        elif t == "O":
            emit("optional(")
            walk(d)
            emit(")")
        elif t == "V":
            emit(f"alternative {d[0]}: ")
            walk(d[1])

    if v is None:
        return "(no value)"
    walk(v)
    text = "".join(out)
    return text if len(text) <= limit else text[:limit] + "..."


def _quote(b: bytes) -> str:
    s = b.decode("utf-8", "backslashreplace")
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


# ---- numbers -------------------------------------------------------------------------------------------------
def _round_int_to_float32(n: int) -> float:
    """n converted to a 32-bit float (round to nearest, ties to even), as a C/Java/C# cast does: directly, not
    through a double (which could round twice)."""
    if n == 0:
        return 0.0
    sign = -1.0 if n < 0 else 1.0
    m = abs(n)
    shift = m.bit_length() - 24
    if shift > 0:
        q, r = divmod(m, 1 << shift)
        half = 1 << (shift - 1)
        if r > half or r == half and q & 1:
            q += 1
        m = q << shift
    x = float(m)  # exact: at most 24 significant bits
    return sign * (x if x <= 3.4028234663852886e38 else math.inf)


def _to_float32(x: float) -> float:
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return math.copysign(math.inf, x)


_NUMERIC = frozenset("bcilfd")
_CPP_NUMERIC = _NUMERIC | {"g"}  # g: __int128


def _number(v: Value) -> int | float:
    if v.tag in "fd":
        return v.as_float()
    return int(v.data)  # b, c, i, l, g (bool as 0/1)


def _promoted_equal(a: Value, b: Value) -> bool:
    """Binary numeric promotion / the usual arithmetic conversions (C++, Java, C# agree for these types):
    double if either is double, else float if either is float (an integer converted with rounding), else
    the integers' values. NaN is unequal to everything, -0.0 equals 0.0."""
    if "d" in (a.tag, b.tag):
        return float(_number(a)) == float(_number(b))
    if "f" in (a.tag, b.tag):
        fa = a.as_float() if a.tag == "f" else _round_int_to_float32(_number(a))
        fb = b.as_float() if b.tag == "f" else _round_int_to_float32(_number(b))
        return fa == fb
    return _number(a) == _number(b)


# ---- C++: operator== ----------------------------------------------------------------------------------------
def cpp_eq(a: Value, b: Value) -> bool:
    ta, tb = a.tag, b.tag
    if "?" in (ta, tb):
        return False
    if ta in _CPP_NUMERIC and tb in _CPP_NUMERIC:
        return _promoted_equal(a, b)
    # std::optional: against nullopt, another optional, or a value (compared with the engaged value).
    if ta in "Oo" or tb in "Oo":
        if ta in "Oo" and tb in "Oo":
            return ta == tb == "o" or ta == tb == "O" and cpp_eq(a.data, b.data)
        if "N" in (ta, tb):
            return "o" in (ta, tb)
        opt, other = (a, b) if ta in "Oo" else (b, a)
        return opt.tag == "O" and (cpp_eq(opt.data, other) if opt is a else cpp_eq(other, opt.data))
    if ta != tb:
        return False
    if ta == "N":
        return True
    if ta == "s":
        return a.data == b.data
    if ta in "LT":
        return len(a.data) == len(b.data) and all(cpp_eq(x, y) for x, y in zip(a.data, b.data))
    if ta == "M":  # std::map: equal sizes and equal (key, value) pairs in order
        return len(a.data) == len(b.data) and all(
            cpp_eq(ka, kb) and cpp_eq(va, vb) for (ka, va), (kb, vb) in zip(a.data, b.data))
    if ta == "V":  # variant / MultiPL-E Union: the same alternative and equal values
        return a.data[0] == b.data[0] and cpp_eq(a.data[1], b.data[1])
    return False


# ---- Java: == on primitives, Object.equals ----------------------------------------------------------------------
def java_eq(a: Value, b: Value) -> bool:
    """`==` as MultiPL-E's Java tests use it: on primitives (long, boolean, float) with numeric promotion."""
    if a.tag in _NUMERIC - {"b"} and b.tag in _NUMERIC - {"b"}:
        return _promoted_equal(a, b)
    return a.tag == b.tag == "b" and a.data == b.data


def _java_float_key(v: Value) -> int:
    # Float.equals / Double.equals compare floatToIntBits / doubleToLongBits: every NaN is one NaN, and
    # 0.0 differs from -0.0.
    x = v.as_float()
    return -1 if math.isnan(x) else int(v.data)


def java_equals(a: Value, b: Value) -> bool:
    """`a.equals(b)` by runtime class. A null receiver throws (the check fails)."""
    if a.tag == "n":
        return False
    return _java_objects_equal(a, b)


def _java_objects_equal(a: Value, b: Value) -> bool:  # java.util.Objects.equals
    ta, tb = a.tag, b.tag
    if ta == "n" or tb == "n":
        return ta == tb
    if ta != tb or ta == "?":
        return False
    if ta in "fd":
        return _java_float_key(a) == _java_float_key(b)
    if ta in "bilcs":
        return a.data == b.data
    if ta in "LT":  # List.equals (any List); javatuples: the same class (size) and equal elements
        return len(a.data) == len(b.data) and all(_java_objects_equal(x, y) for x, y in zip(a.data, b.data))
    if ta == "M":  # Map.equals: the same mappings, in any order
        return _mapping_equal(a.data, b.data, _java_key, _java_objects_equal)
    if ta == "O":
        return _java_objects_equal(a.data, b.data)
    return ta == "o"


def _mapping_equal(a: tuple, b: tuple, key, value_eq) -> bool:
    """Map equality as the languages' hash maps decide it: the same size, and every (key, value) of a has a
    key of b equal to it whose value is equal. `key` gives a hashable form that is equal exactly when the
    language's key equality holds. Two equal keys in one map are not a map (a forged stream): never equal."""
    if len(a) != len(b):
        return False
    other = {}
    for kb, vb in b:
        other[key(kb)] = vb
    if len(other) != len(b) or len({key(ka) for ka, _ in a}) != len(a):
        return False
    for ka, va in a:
        k = key(ka)
        if k not in other or not value_eq(va, other[k]):
            return False
    return True


class _Never:
    """A key equal to nothing but itself (a '?' value, or a list key where equality is by reference)."""

    __slots__ = ()


def _java_key(v: Value):
    """Hashable form of v, equal exactly when Objects.equals holds (hashCode agrees with equals)."""
    t = v.tag
    if t == "?":
        return _Never()
    if t in "fd":
        return (t, _java_float_key(v))
    if t in "LT":
        return (t, tuple(_java_key(x) for x in v.data))
    if t == "M":
        return (t, frozenset((_java_key(k), _java_key(x)) for k, x in v.data))
    if t == "O":
        return (t, _java_key(v.data))
    return (t, v.data)


# ---- C#: == on primitives, .Equals, jacode's JacodeEquals ------------------------------------------------------
def cs_eq(a: Value, b: Value) -> bool:
    """`==` as MultiPL-E's C# tests use it: numeric promotion, bool, string values, lifted null."""
    if a.tag in _NUMERIC - {"b"} and b.tag in _NUMERIC - {"b"}:
        return _promoted_equal(a, b)
    if a.tag == b.tag and a.tag in "bs":
        return a.data == b.data
    return a.tag == b.tag == "n"


def _dotnet_equals(a: Value, b: Value) -> bool:
    """object.Equals(a, b) with a not null: value types need the same type (long.Equals(int) is false);
    float/double Equals treats NaN as equal to NaN and 0.0 as equal to -0.0; strings by value; tuples by
    element; lists and dictionaries by reference (never equal across the process boundary)."""
    ta, tb = a.tag, b.tag
    if ta != tb or ta in "?LM":
        return False
    if ta in "fd":
        x, y = a.as_float(), b.as_float()
        return x == y or math.isnan(x) and math.isnan(y)
    if ta in "bilcs":
        return a.data == b.data
    if ta == "T":
        return len(a.data) == len(b.data) and all(
            x.tag == y.tag == "n" or x.tag != "n" and _dotnet_equals(x, y) for x, y in zip(a.data, b.data))
    return False


def cs_equals(a: Value, b: Value) -> bool:
    """`a.Equals(b)` (tests that jacode did not rewrite). A null receiver is taken as an empty Nullable<T>
    (equal to null); a null string or list receiver would throw instead: both fail unless b is null."""
    if a.tag == "n":
        return b.tag == "n"
    if b.tag == "n":
        return False
    return _dotnet_equals(a, b)


def cs_jacode_equals(a: Value, b: Value) -> bool:
    """jacode's JacodeEquals (serializers/JacodeOut.cs), in its order of cases."""
    ta, tb = a.tag, b.tag
    if ta == "n" or tb == "n":
        return ta == tb
    if "s" in (ta, tb):
        return ta == tb and a.data == b.data
    if "M" in (ta, tb):
        return ta == tb and _mapping_equal(a.data, b.data, _dotnet_key, cs_jacode_equals)
    if "L" in (ta, tb):
        return ta == tb and len(a.data) == len(b.data) and all(
            cs_jacode_equals(x, y) for x, y in zip(a.data, b.data))
    if ta == tb == "T":
        return len(a.data) == len(b.data) and all(cs_jacode_equals(x, y) for x, y in zip(a.data, b.data))
    return _dotnet_equals(a, b)


def _dotnet_key(v: Value):
    """Hashable form of a dictionary key, equal exactly when .NET Equals holds (the default comparer)."""
    t = v.tag
    if t in "?LM":
        return _Never()  # no such key in MultiPL-E; lists and dictionaries compare by reference
    if t in "fd":
        x = v.as_float()
        return (t, "nan" if math.isnan(x) else x)  # NaN equals NaN; 0.0 equals -0.0
    if t == "T":
        return (t, tuple(_dotnet_key(x) for x in v.data))
    return (t, v.data)


# ---- JavaScript: assert.deepEqual (legacy, Node 20) ------------------------------------------------------------
_PRIMITIVE = frozenset("nubdgs")


def js_deep_equal(a: Value, b: Value) -> bool:
    ta, tb = a.tag, b.tag
    if "?" in (ta, tb):
        return False
    if ta in _PRIMITIVE or tb in _PRIMITIVE:
        if ta in _PRIMITIVE and tb in _PRIMITIVE:
            return js_loose_eq(a, b) or _js_nan(a) and _js_nan(b)
        return False  # an object never deep-equals a primitive
    if ta != tb:
        return False  # an array never deep-equals a plain object
    if ta == "L":
        return len(a.data) == len(b.data) and all(js_deep_equal(x, y) for x, y in zip(a.data, b.data))
    if ta == "M":  # own enumerable string keys, any order
        if len(a.data) != len(b.data):
            return False
        return _mapping_equal(a.data, b.data, _js_key, js_deep_equal)
    return False


def _js_key(v: Value):
    return v.data if v.tag == "s" else _Never()  # an object's keys are strings


def _js_nan(v: Value) -> bool:
    return v.tag == "d" and math.isnan(v.as_float())


# StrWhiteSpaceChar: WhiteSpace and LineTerminator (ECMA-262 7.2, 7.3).
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\Z")
_JS_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)\Z")


def _js_string(v: Value) -> str:
    return v.data.decode("utf-8", "surrogatepass")


def js_string_to_number(s: str) -> float:
    s = s.strip(_JS_SPACE)
    if not s:
        return 0.0
    if _JS_RADIX.match(s):
        return float(int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()]))
    if _JS_DECIMAL.match(s):
        if s.lstrip("+-") == "Infinity":
            return -math.inf if s[0] == "-" else math.inf
        return float(s)
    return math.nan


def js_string_to_bigint(s: str) -> int | None:
    s = s.strip(_JS_SPACE)
    if not s:
        return 0
    if _JS_RADIX.match(s):
        return int(s[2:], {"x": 16, "o": 8, "b": 2}[s[1].lower()])
    if re.fullmatch(r"[+-]?[0-9]+", s) and len(s) <= MAX_INT_DIGITS:
        return int(s)
    return None


def js_loose_eq(a: Value, b: Value) -> bool:
    """The `==` operator (IsLooselyEqual) on primitives."""
    ta, tb = a.tag, b.tag
    if ta == tb:
        if ta == "d":
            return a.as_float() == b.as_float()
        return ta in "nu" or a.data == b.data
    if {ta, tb} == {"n", "u"}:
        return True
    if "n" in (ta, tb) or "u" in (ta, tb):
        return False
    if ta == "b":
        return js_loose_eq(Value("d", _double_bits(float(a.data))), b)
    if tb == "b":
        return js_loose_eq(a, Value("d", _double_bits(float(b.data))))
    if {ta, tb} == {"d", "s"}:
        num, s = (a, b) if ta == "d" else (b, a)
        return num.as_float() == js_string_to_number(_js_string(s))
    if {ta, tb} == {"g", "s"}:
        big, s = (a, b) if ta == "g" else (b, a)
        n = js_string_to_bigint(_js_string(s))
        return n is not None and n == big.data
    if {ta, tb} == {"g", "d"}:
        big, num = (a, b) if ta == "g" else (b, a)
        x = num.as_float()
        return math.isfinite(x) and x == int(x) and int(x) == big.data
    return False


def _double_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


EQUALITY = {
    ("cpp", "=="): cpp_eq,
    ("java", "=="): java_eq,
    ("java", "equals"): java_equals,
    ("cs", "=="): cs_eq,
    ("cs", "equals"): cs_equals,
    ("cs", "JacodeEquals"): cs_jacode_equals,
    ("js", "deepEqual"): js_deep_equal,
}


def equal(language: str, op: str, actual: Value, expected: Value) -> bool:
    """`actual OP expected` as the test's language decides it (actual is the left operand / receiver)."""
    try:
        fn = EQUALITY[(language, op)]
    except KeyError:
        raise ValueError(f"no equality for {language} {op}") from None
    return fn(actual, expected)
