"""The per-sample operations that bench_isolation_floor.py times inside a process shaped like jacode's sandbox
server. Kept apart, with nothing but the standard library modules the server has already loaded, so that importing
it does not make that process (and so every fork measured in it) larger than the server is."""

import ctypes
import os
import time

import pycheck  # jacode's framing (sandbox/runtime: on sys.path in the server-shaped process)

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, SIGCHLD = 0x00020000, 0x08000000, 0x20000000, 17
MS_NOSUID, MS_NODEV, MS_NOEXEC = 2, 4, 8


def per_op_ms(fn, n: int) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e3


def python_fork() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _mount(source, target, fstype, flags, data=None) -> None:
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        raise OSError(ctypes.get_errno(), f"mount {target}")


def clone_with_mounts() -> None:
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = libc.syscall(56, ctypes.c_ulong(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID | SIGCHLD), 0, 0, 0, 0)
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=67108864,nr_inodes=4096,mode=1777")
        os._exit(0)
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    os.waitpid(pid, 0)


def round_trip_ms(n: int) -> float:
    """One call and its answer between two processes, with jacode's framing and codec."""
    a_r, a_w = os.pipe()
    b_r, b_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        reader = pycheck.Reader(a_r)
        for _ in range(n):
            _, _name, args, _kw = pycheck.decode(reader.frame())
            pycheck.send(b_w, ["ok", pycheck.encode(sum(args[0]))])
        os._exit(0)
    reader = pycheck.Reader(b_r)
    t = time.perf_counter()
    for i in range(n):
        pycheck.send(a_w, ["call", "f", pycheck.encode([[i, 2, 3]]), pycheck.encode({})])
        pycheck.decode(reader.frame(time.monotonic() + 5))
    ms = (time.perf_counter() - t) / n * 1e3
    os.waitpid(pid, 0)
    return ms
