"""The warm sandbox: runs *inside* one long-lived bubblewrap sandbox per worker (standard library only).

Starting bwrap and a Python interpreter costs ~15 ms per sample, ten times what a HumanEval check costs. So
each worker starts one sandboxed interpreter (this file) once, and for every sample forks:

    server (privileged: CAP_SYS_ADMIN, CAP_SETUID, CAP_SETGID; never runs sample code)
      └ supervisor: unshare(mount + PID namespaces), enforces the wall-clock timeout
          └ reaper: PID 1 of the new namespace; mounts a fresh /tmp and /proc, writes the files
              └ sample: random unprivileged uid, no capabilities, no_new_privs, rlimits, stdin at EOF,
                        stdout+stderr to the output file; runs the program, then reports with the token

When the reaper exits (sample finished or timeout), the kernel kills everything left in the namespace, so
daemons die with their sample. The sample's /tmp is a new tmpfs in its own mount namespace: nothing it
writes survives it or reaches the next sample.

Protocol on stdin/stdout: "<length>\\n<json request>" -> "<length>\\n<json response>".

The server is started as `python -I -S -c SOURCE` where SOURCE is pyrunner.py followed by this file, so
both execution paths run programs and report verdicts with the same `execute_program`.
"""

# Imported once here so that samples (forked from this process) do not pay for them.
import collections  # noqa: F401
import ctypes
import functools  # noqa: F401
import itertools  # noqa: F401
import json
import math  # noqa: F401
import os
import re  # noqa: F401
import resource
import select
import string  # noqa: F401
import sys
import time
import typing  # noqa: F401

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, CLONE_NEWPID = 0x00020000, 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 38, 4
OUTPUT = "/tmp/.jacode-output"
WORK = "/tmp/work"


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def run_sample(req, outfd):
    """The sample process: drop every privilege, then run the program. Never returns."""
    try:
        uid = req["uid"]
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from uid 0 to non-zero: all capabilities are cleared
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        # Changing uid made the process non-dumpable (its /proc/self owned by root); a fresh process
        # started by that uid would be dumpable, so restore that.
        _check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")
        for name, value in req["rlimits"].items():
            resource.setrlimit(getattr(resource, name), (value, value))
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(outfd, 1)
        os.dup2(outfd, 2)
        os.closerange(3, 1 << 16)  # the server's protocol pipes among them
        # Fresh stdio objects on the new descriptors (nothing buffered from the server carries over).
        sys.stdin = open(0, encoding="utf-8", closefd=False)
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)
        os.chdir(WORK)
        os.environ.clear()
        os.environ.update(req["env"])
    except BaseException as e:  # noqa: BLE001
        os.write(outfd, f"\njacode sandbox setup failed: {e!r}\n".encode())
        os._exit(71)
    token = req["token"]
    path = f"{WORK}/{req['main']}"
    source = req["files"][req["main"]]
    req.clear()  # the request (other fields, other files) is not the program's business
    execute_program(path, source, token)  # noqa: F821 - defined by pyrunner.py, prepended to this source


def reaper(req, outfd):
    """PID 1 of the sample's namespace: fresh mounts, then wait for the sample (and reap orphans)."""
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"size={req['tmp_bytes']},mode=1777")
    os.mkdir(WORK, 0o700)
    for name, content in req["files"].items():
        with open(f"{WORK}/{name}", "w", encoding="utf-8") as f:
            f.write(content)
        os.chown(f"{WORK}/{name}", req["uid"], req["uid"])
    os.chown(WORK, req["uid"], req["uid"])
    child = os.fork()
    if child == 0:
        run_sample(req, outfd)
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def supervise(req, outfd):
    """New namespaces for the sample, and the wall-clock limit. Returns the facts of the run."""
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWPID), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            code = reaper(req, outfd)
        except BaseException as e:  # noqa: BLE001
            os.write(outfd, f"\njacode sandbox setup failed: {e!r}\n".encode())
        os._exit(code)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    timed_out = not poller.poll(req["timeout_s"] * 1000)
    if timed_out:
        os.kill(pid, 9)  # PID 1 of the namespace: the kernel kills everything else in it
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    return {"returncode": os.waitstatus_to_exitcode(status), "timed_out": timed_out,
            "duration_s": time.perf_counter() - start}


def handle(req):
    outfd = os.open(OUTPUT, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            facts = supervise(req, outfd)
        except BaseException as e:  # noqa: BLE001
            facts = {"error": repr(e)}
        os.write(w, json.dumps(facts).encode())
        os._exit(0)
    os.close(w)
    chunks = []
    deadline = time.monotonic() + req["timeout_s"] + 10
    while True:
        ready, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            os.kill(pid, 9)
            break
        data = os.read(r, 65536)
        if not data:
            break
        chunks.append(data)
    os.close(r)
    os.waitpid(pid, 0)
    facts = json.loads(b"".join(chunks) or b'{"error": "supervisor died"}')
    size = os.lseek(outfd, 0, os.SEEK_END)
    os.lseek(outfd, max(0, size - req["output_tail"]), os.SEEK_SET)
    facts["output"] = os.read(outfd, req["output_tail"]).decode("utf-8", errors="replace")
    facts["output_size"] = size
    os.close(outfd)
    return facts


def main():
    # Objects that exist now are never collected: the GC then does not walk (and copy-on-write) the
    # server's whole heap in every forked sample.
    import gc

    gc.freeze()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(b"ready\n")
    stdout.flush()
    while True:
        header = stdin.readline()
        if not header:
            return
        req = json.loads(stdin.read(int(header)))
        resp = json.dumps(handle(req)).encode()
        stdout.write(b"%d\n" % len(resp) + resp)
        stdout.flush()


main()
