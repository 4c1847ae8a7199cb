"""The sandbox server (standard library only): runs inside one bubblewrap sandbox and runs jobs one at a time.

Started as `python -E -s -S /run/jacode-runtime/server.py [--once]` (not -I: pycheck and seccomp sit beside it)
by jacode.sandbox.isolation: once per worker (the warm path), or once per job with --once (the per-run path).
Both paths run every job with this code.

Per job:

    server   never runs sample code and never reads a job's body (only its header: sizes and limits), so
      │      nothing it holds can leak into a later job
      └ init PID 1 of new PID, mount and IPC namespaces, in the job's memory cgroup; mounts a fresh /proc and
             a size- and inode-limited tmpfs on /tmp (the workspace and /dev/shm live there too)
          ├ step processes (exec jobs: compile, run, one per judged case), each a fresh random uid
          └ candidate (Python check jobs): forked before the checks are read, then the init itself drops to
            another uid and becomes the checker (pycheck.py); its verdict goes to the server in a memory
            file that the candidate does not hold

Every process that runs sample or test code: fresh uid, no capabilities, no_new_privs, the seccomp filter
(seccomp.py, installed once in the server and inherited), rlimits, stdin from /dev/null or a memory file,
stdout/stderr into memory files. When the init exits, the kernel kills everything left in its PID namespace;
SysV IPC objects die with the IPC namespace and the tmpfs with the mount namespace.

Protocol on stdin/stdout: request = 8-byte length, header JSON, then the body parts whose lengths the header
lists (read by the job's processes, never by the server); response = 8-byte length, the server's facts (JSON:
timing, exit, OOM), 8-byte length, the init's facts (JSON, written by the init, relayed with sendfile()).
"""

# Modules marked "preloaded" are imported once here so that candidates (forked from this process) do not pay
# for them: the ones HumanEval-style code imports most. Every module here also makes each fork slower (its
# memory is mapped in every child), so rarely used heavy ones (random, hashlib: OpenSSL) are left out.
import base64
import collections  # noqa: F401 - preloaded
import ctypes
import fcntl
import functools  # noqa: F401 - preloaded
import itertools  # noqa: F401 - preloaded
import json
import math  # noqa: F401 - preloaded
import os
import re  # noqa: F401 - preloaded
import resource
import select
import string  # noqa: F401 - preloaded
import struct
import sys
import time
import typing  # noqa: F401 - preloaded

import pycheck
import seccomp

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for _fn in ("prctl", "mount", "umount2", "syscall", "unshare"):  # resolved once, not in every forked child
    getattr(libc, _fn)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWUSER, SIGCHLD = 0x00020000, 0x08000000, 0x20000000, 0x10000000, 17
SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine)
SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE = 38, 4
WORK = "/tmp/work"
CGROUP = None  # this server's memory cgroup (--cgroup DIR; bound read-write by the harness), if there is one
CHANNEL_FDS = (3, 4)  # the candidate's ends of its pipes to the checker (read, write)
RESULTS_FD = 3  # exec steps that report values write them here (see jacode.sandbox.split)
COLLECT_LIMIT = 64 * 2**20


class JobError(Exception):
    """The job could not be run as asked (not the sample's fault)."""


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: s.encode() if s is not None else None  # noqa: E731
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def read_exact(fd, n):
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("control stream closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


# ---- process set-up ----------------------------------------------------------------------------------------
def privileged():
    return os.geteuid() == 0


def own_user_namespace():
    """Not root: a user namespace of the server's own, its one uid mapped to itself, in which the server holds the
    capabilities that its jobs' namespaces and mounts need (bubblewrap's own user namespace does not let the
    command it starts mount anything). Samples drop them all (drop_capabilities)."""
    uid, gid = os.getuid(), os.getgid()
    _check(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER)")
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


def drop_capabilities():
    """In a user namespace (jacode run by a non-root user) there is one uid: keep it, drop every capability."""
    PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, PR_CAPBSET_DROP = 47, 4, 24
    _check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "clear ambient capabilities")
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: past the last
            break
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): none
    _check(libc.syscall(SYS_CAPSET, header, data), "capset")


def become_sample(uid, rlimits, dumpable=True):
    """Drop to `uid` (as root; else keep the one uid) with no capabilities, no_new_privs and the rlimits."""
    if privileged():
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # from uid 0 to non-zero: every capability is cleared
    else:
        drop_capabilities()
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    # A uid change makes the process non-dumpable (/proc/self owned by root); a program started by that uid
    # would be dumpable, and runtimes read /proc/self/fd (Java). The checker stays non-dumpable.
    _check(libc.prctl(PR_SET_DUMPABLE, 1 if dumpable else 0, 0, 0, 0), "dumpable")
    for name, value in rlimits.items():
        resource.setrlimit(getattr(resource, name), (value, value))


def setup_stdio(stdin_fd, out_fd, err_fd, keep):
    """stdin/stdout/stderr, then the fds in `keep` ({target: source}) at their numbers; all else closed."""
    wanted = {0: stdin_fd, 1: out_fd, 2: err_fd, **keep}
    # First copy every source out of the way (a source may sit on another's target number), then into place.
    moved = {target: fcntl.fcntl(source, fcntl.F_DUPFD, 100) for target, source in wanted.items()}
    for target, source in moved.items():
        os.dup2(source, target)
    top = max(wanted)
    for fd in range(3, top + 1):
        if fd not in wanted:
            try:
                os.close(fd)
            except OSError:
                pass
    os.closerange(top + 1, 1 << 16)


def memfile(name):
    return os.memfd_create(name, 0)


def tail_of(fd, n):
    size = os.lseek(fd, 0, os.SEEK_END)
    os.lseek(fd, max(0, size - n), os.SEEK_SET)
    return os.read(fd, n).decode("utf-8", "replace"), size


def whole(fd):
    size = os.lseek(fd, 0, os.SEEK_END)
    os.lseek(fd, 0, os.SEEK_SET)
    return read_exact(fd, size) if size else b""


def wait_for(pid, deadline):
    """Exit status of `pid`, or None when the deadline passed first (the process still runs)."""
    pidfd = os.pidfd_open(pid)
    try:
        if not _poll(pidfd, max(0.0, deadline - time.monotonic())):
            return None
    finally:
        os.close(pidfd)
    return os.waitpid(pid, 0)[1]


def _poll(fd, seconds):
    p = select.poll()
    p.register(fd, select.POLLIN)
    return bool(p.poll(seconds * 1000))


def kill_all_but_me():
    """From the namespace's init: SIGKILL every other process in it, and reap them all."""
    if NAMESPACES["on"]:
        try:
            os.kill(-1, 9)
        except ProcessLookupError:
            pass
    else:  # not isolated: the processes of this job's session (a daemon that left it is out of reach)
        me, sid = os.getpid(), os.getsid(0)
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != me:
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    if int(fields[3]) == sid:
                        os.kill(int(entry), 9)
                except (OSError, ValueError, IndexError):
                    continue
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


# ---- the job's init ----------------------------------------------------------------------------------------
def init_namespace(header):
    """First steps of the init: first in line for the OOM killer, private mounts, fresh /proc and /tmp."""
    global WORK
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")  # the OOM killer's first choice in the cgroup: the job's processes, never the server
    if not NAMESPACES["on"]:  # no isolation: a fresh directory on the host's /tmp, removed afterwards
        import tempfile

        WORK = tempfile.mkdtemp(prefix="jacode-job-")
        os.chmod(WORK, 0o777)
        return
    if not IN_SANDBOX:  # the job's own mount namespace, copied from the host's: nothing may propagate back
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={header['tmp_bytes']},nr_inodes={header['tmp_inodes']},mode=1777")
    os.mkdir(WORK)
    os.chmod(WORK, 0o777)  # every step runs under its own uid and must write here
    os.mkdir("/tmp/.shm")
    os.chmod("/tmp/.shm", 0o1777)
    if os.path.isdir("/dev/shm"):  # POSIX shared memory: in this job's tmpfs, under its quota
        _mount("/tmp/.shm", "/dev/shm", None, MS_BIND)


def sample_uid():
    """A random unprivileged uid: concurrent samples (other workers) never share one RLIMIT_NPROC budget."""
    return int.from_bytes(os.urandom(4), "little") % 1_000_000 + 100_000


def step_env(header, extra):
    env = dict(header.get("env") or {})
    env.update(extra or {})
    return env


def run_steps_job(header, facts_fd):
    """Exec jobs: write the files, then run each step; stop after a step that fails when asked to."""
    parts = [read_exact(0, n) for n in header["parts"]]
    spec = json.loads(parts[0])
    for name, b64 in spec.get("files", {}).items():
        path = os.path.join(WORK, name)
        if os.path.dirname(name):
            os.makedirs(os.path.dirname(path), exist_ok=True)
            for d in _parents(os.path.dirname(name)):
                os.chmod(os.path.join(WORK, d), 0o777)
        with open(path, "wb") as f:
            f.write(base64.b64decode(b64))
        os.chmod(path, 0o777 if spec.get("executable", {}).get(name) else 0o666)
    out = []
    for step in spec["steps"]:
        facts = run_step(header, step, parts)
        out.append(facts)
        kill_all_but_me()  # nothing a step started lives on into the next one
        if step.get("stop_unless_ok") and (facts["timed_out"] or facts["returncode"] != 0):
            break
    import glob

    collected, total = {}, 0
    for pattern in spec.get("collect", []):
        for path in sorted(glob.glob(os.path.join(WORK, pattern))):
            if os.path.isfile(path) and not os.path.islink(path):
                size = os.path.getsize(path)
                total += size
                if total > COLLECT_LIMIT:
                    raise JobError("collected files exceed the limit")
                with open(path, "rb") as f:
                    collected[os.path.relpath(path, WORK)] = base64.b64encode(f.read()).decode("ascii")
    write_all(facts_fd, json.dumps({"steps": out, "collected": collected}).encode())
    os.write(DONE["fd"], b"d")


def _parents(rel):
    parts = rel.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def run_step(header, step, parts):
    out = memfile("out")
    err = memfile("err") if step.get("split_stderr") else out
    results = memfile("results") if step.get("results") else None
    if step.get("stdin") is not None:
        stdin = memfile("stdin")
        write_all(stdin, parts[step["stdin"]])
        os.lseek(stdin, 0, os.SEEK_SET)
    else:
        stdin = os.open("/dev/null", os.O_RDONLY)
    env = step_env(header, step.get("env"))
    if step.get("memory_bytes") and CGROUP:  # each step its own limit (a compiler needs more)
        set_memory_limit(step["memory_bytes"])
    ooms = oom_kills()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.chdir(WORK)
            become_sample(sample_uid(), step["rlimits"])
            setup_stdio(stdin, out, err, {RESULTS_FD: results} if results is not None else {})
            os.execve(step["argv"][0] if step["argv"][0].startswith("/") else _which(step["argv"][0], env),
                      step["argv"], env)
        except BaseException as e:  # noqa: BLE001
            os.write(2, f"\njacode sandbox: could not start {step['argv'][0]}: {e!r}\n".encode())
        os._exit(127)
    status = wait_for(pid, start + step["timeout_s"])
    timed_out = status is None
    if timed_out:
        kill_all_but_me()
        code = -9
    else:
        code = os.waitstatus_to_exitcode(status)
    duration = time.monotonic() - start
    tail, size = tail_of(out, header["output_tail"])
    facts = {"returncode": code, "timed_out": timed_out, "duration_s": duration, "output": tail,
             "output_size": size, "oom": ooms >= 0 and oom_kills() > ooms}
    if step.get("split_stderr"):
        facts["stderr"], _ = tail_of(err, header["output_tail"])
        facts["stdout"] = base64.b64encode(whole(out)).decode("ascii")
    if results is not None:
        facts["results"] = base64.b64encode(whole(results)).decode("ascii")
    for fd in {out, err, stdin, *([results] if results is not None else [])}:
        os.close(fd)
    return facts


def _which(name, env):
    for d in env.get("PATH", "/usr/bin:/bin").split(":"):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    return name


def run_pycheck_job(header, facts_fd):
    """Python checks: fork the candidate (it reads its own code), then read the checks and become the checker."""
    to_cand_r, to_cand_w = os.pipe()
    from_cand_r, from_cand_w = os.pipe()
    sync_r, sync_w = os.pipe()
    out = memfile("out")
    limits = header["rlimits"]
    start = time.monotonic()
    deadline = start + header["timeout_s"]
    pid = os.fork()
    if pid == 0:  # the candidate
        try:
            source = read_exact(0, header["parts"][0]).decode("utf-8", "surrogateescape")
            os.write(sync_w, b"1")
            os.chdir(WORK)
            null = os.open("/dev/null", os.O_RDONLY)
            setup_stdio(null, out, out, {CHANNEL_FDS[0]: to_cand_r, CHANNEL_FDS[1]: from_cand_w})
            for fd in CHANNEL_FDS:  # a program the candidate starts does not inherit the channel
                os.set_inheritable(fd, False)
            become_sample(sample_uid(), limits)
            env = step_env(header, None)
            os.environ.clear()
            os.environ.update(env)
            # Fresh stdio objects on the new descriptors (nothing buffered in the server carries over).
            sys.stdin = open(0, encoding="utf-8", closefd=False)
            sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
            sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)
            sys.argv = ["program.py"]
            sys.path.insert(0, WORK)
        except BaseException as e:  # noqa: BLE001
            os.write(out, f"\njacode sandbox: candidate set-up failed: {e!r}\n".encode())
            os._exit(71)
        pycheck.serve(source, header.get("filename", "program.py"), *CHANNEL_FDS)
    for fd in (to_cand_r, from_cand_w, sync_w):
        os.close(fd)
    if os.read(sync_r, 1) != b"1":
        raise JobError("the candidate did not take its code")
    os.close(sync_r)
    spec = json.loads(read_exact(0, header["parts"][1]))
    # The checker: this process, with its own uid (the candidate can neither signal nor trace it).
    alive = os.pidfd_open(pid)
    null = os.open("/dev/null", os.O_RDWR)
    setup_stdio(null, null, null, {5: facts_fd, 6: to_cand_w, 7: from_cand_r, 8: out, 9: alive, 10: DONE["fd"]})
    facts_fd, to_cand_w, from_cand_r, out, alive, DONE["fd"] = 5, 6, 7, 8, 9, 10
    become_sample(sample_uid(), {**limits, "RLIMIT_NPROC": 1}, dumpable=False)
    status, detail, calls = pycheck.run_checks(spec, from_cand_r, to_cand_w, deadline, alive)
    os.close(to_cand_w)  # the candidate's serve loop ends
    candidate = {"returncode": None}
    # How the candidate ended matters for the verdict's wording only when the checks did not pass.
    if status != "pass":
        st = wait_for(pid, min(deadline, time.monotonic() + 0.2))
        if st is not None:
            candidate["returncode"] = os.waitstatus_to_exitcode(st)
    tail, size = tail_of(out, header["output_tail"])
    candidate.update(output=tail, output_size=size)
    report = {"report": [status, detail, calls], "candidate": candidate, "duration_s": time.monotonic() - start}
    write_all(facts_fd, json.dumps(report).encode())
    os.write(DONE["fd"], b"d")
    if not NAMESPACES["on"]:
        kill_all_but_me()
    os._exit(0)  # as PID 1: the kernel now kills the candidate and anything it started


def init_main(header, facts_fd):
    code = 0
    if not NAMESPACES["on"]:
        import atexit
        import shutil

        atexit.register(lambda: shutil.rmtree(WORK, ignore_errors=True))
    try:
        init_namespace(header)
        if header["kind"] == "pycheck":
            run_pycheck_job(header, facts_fd)
        else:
            run_steps_job(header, facts_fd)
    except BaseException as e:  # noqa: BLE001 - reported to the harness as a sandbox error
        try:
            write_all(facts_fd, json.dumps({"error": f"{type(e).__name__}: {e}"}).encode())
        except OSError:
            pass
        code = 70
    os._exit(code)


# ---- the server --------------------------------------------------------------------------------------------
NAMESPACES = {"on": True}  # off when this server cannot create namespaces (run without bubblewrap, not root)
IN_SANDBOX = "--unisolated" not in sys.argv  # started inside bubblewrap (else: --sandbox none)


def clone_init():
    """fork() into new PID, mount and IPC namespaces: the child is PID 1 there."""
    if not NAMESPACES["on"]:
        pid = os.fork()
        if pid == 0:
            os.setsid()
        return pid
    # No new network namespace per job (it would cost as much as the rest of the job): the server's has no
    # outside network, and the seccomp filter lets samples create Unix sockets only (see seccomp.py).
    flags = CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID
    if SYS_CLONE is None:
        raise OSError("clone: unknown architecture")
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = libc.syscall(SYS_CLONE, ctypes.c_ulong(flags | SIGCHLD), 0, 0, 0, 0)
    err = ctypes.get_errno()
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
    else:
        ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, f"clone: {os.strerror(err)}")
    return pid


CGROUP_FD = {}  # a descriptor of the server's cgroup directory (its mount is gone: see private_mounts)


def private_mounts():
    """Once, in the server's own mount namespace (jobs' namespaces are copies of it): mounts private (nothing a job
    mounts propagates), and the cgroup reachable through a descriptor only: samples cannot see it (its peak-usage
    figures would carry messages from one sample to the next)."""
    if CGROUP:
        CGROUP_FD["fd"] = os.open(CGROUP, os.O_PATH | os.O_DIRECTORY)
    if not IN_SANDBOX and privileged():  # run without bubblewrap as root: the host's mount namespace, left as is
        return
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    if CGROUP:
        _check(libc.umount2(CGROUP.encode(), MNT_DETACH), f"umount {CGROUP}")


def _cg_open(name, flags):
    return os.open(name, flags, dir_fd=CGROUP_FD["fd"])


def _cg_read(name):
    fd = _cg_open(name, os.O_RDONLY)
    try:
        return os.read(fd, 65536).decode()
    finally:
        os.close(fd)


_HAS = {}


def _cg_has(name):
    """Whether the cgroup has this file (v1 or v2, swap accounting or not): asked once per name."""
    if name not in _HAS:
        try:
            os.close(_cg_open(name, os.O_RDONLY))
            _HAS[name] = True
        except OSError:
            _HAS[name] = False
    return _HAS[name]


BASELINE = {}  # the server's own charge in its cgroup, measured once: a job's limit comes on top of it


LIMIT = {}  # the limit the server last set (a steps job's init may change it, per step: then it is forgotten)


def set_memory_limit(job_bytes):
    """The cgroup's limit for what runs next: the sample's memory plus the server's own footprint."""
    if "bytes" not in BASELINE:
        BASELINE["bytes"] = int(_cg_read("memory.current" if _cg_has("memory.current")
                                         else "memory.usage_in_bytes").split()[0])
    limit = job_bytes + BASELINE["bytes"]
    if LIMIT.get("bytes") == limit:
        return
    if _cg_has("memory.max"):
        _write_cgroup(["memory.max", "memory.swap.max"], [limit, 0])
    else:
        # v1: memsw (memory + swap) must stay >= the memory limit; which one may move first depends on the
        # direction of the change, so the other order is tried when the first is refused.
        try:
            _write_cgroup(["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"], [limit, limit])
        except OSError:
            _write_cgroup(["memory.memsw.limit_in_bytes", "memory.limit_in_bytes"], [limit, limit])
    LIMIT["bytes"] = limit


def _write_cgroup(names, values):
    for name, value in zip(names, values):
        if _cg_has(name):  # no swap accounting: nothing to set there
            fd = _cg_open(name, os.O_WRONLY)
            try:
                os.write(fd, str(value).encode())
            finally:
                os.close(fd)


def oom_kills():
    """OOM kills so far in this server's cgroup (v2 memory.events or v1 memory.oom_control); -1: unknown."""
    if not CGROUP:
        return -1
    for name in ("memory.events", "memory.oom_control"):
        try:
            text = _cg_read(name)
        except OSError:
            continue
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return -1


OOM = {}  # the cgroup's OOM-kill count after the last job
DONE = {}  # in a job's init: the pipe on which it tells the server that its facts are complete
PREVIOUS = {}  # the last job's init, reaped before the next job starts


def reap_previous():
    if "pid" in PREVIOUS:
        os.waitpid(PREVIOUS.pop("pid"), 0)


def run_job(header):
    """Run one job; (the server's own facts, the memfd holding the init's facts).

    The init writes its facts (outputs, values, the checker's report) into a memory file that the server sends
    on with sendfile(): sample data never passes through the server's own memory, where a later sample (forked
    from it) could find it. The server answers as soon as the init says its facts are complete; the job's
    processes and namespaces are torn down meanwhile, and reaped before the next job starts.
    """
    reap_previous()
    facts = memfile("facts")
    done_r, done_w = os.pipe()
    before = -1
    if header.get("memory_bytes") and CGROUP:
        set_memory_limit(header["memory_bytes"])
        before = OOM["kills"] if "kills" in OOM else oom_kills()  # the count after the last job, or now
    start = time.monotonic()
    pid = clone_init()
    if pid == 0:
        os.close(done_r)
        DONE["fd"] = done_w
        null = os.open("/dev/null", os.O_WRONLY)
        os.dup2(null, 1)  # the control stream's write end is for the server's responses only
        os.close(null)
        init_main(header, facts)
    os.close(done_w)
    deadline = start + header["timeout_s"] + header.get("grace_s", 5.0)
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(done_r, select.POLLIN)
    poller.register(pidfd, select.POLLIN)
    events = dict(poller.poll(max(0.0, deadline - time.monotonic()) * 1000))
    timed_out = not events
    done = done_r in events and os.read(done_r, 1) == b"d"
    os.close(done_r)
    os.close(pidfd)
    if timed_out:
        os.kill(pid, 9)  # PID 1 of the job: the kernel kills everything else in it
    if done and not timed_out:
        code = 0
        PREVIOUS["pid"] = pid
    else:
        code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    own = {"job_timed_out": timed_out, "init_status": code, "wall_s": time.monotonic() - start}
    if header.get("kind") == "steps":
        LIMIT.clear()  # its init set per-step limits
    if before >= 0:
        OOM["kills"] = oom_kills()
        own["oom_kills"] = max(0, OOM["kills"] - before)
    return own, facts


def main():
    import gc

    global CGROUP
    try:
        if not privileged():
            own_user_namespace()
    except OSError:
        if IN_SANDBOX:
            raise
        NAMESPACES["on"] = False  # run without bubblewrap where user namespaces are off: no isolation at all
    if NAMESPACES["on"] and not IN_SANDBOX:
        try:  # as root (or in our own user namespace) namespaces work even without bubblewrap
            pid = clone_init()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
        except OSError:
            NAMESPACES["on"] = False
    if "--cgroup" in sys.argv:
        CGROUP = sys.argv[sys.argv.index("--cgroup") + 1]
    private_mounts()
    if seccomp.supported():
        # Once, here: every job's init and every sample inherits it (see seccomp.py).
        if not privileged():
            _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        seccomp.install()
    # Objects that exist now are never collected: the GC then does not walk (and copy) the server's whole heap
    # in every forked process.
    gc.freeze()
    once = "--once" in sys.argv
    write_all(1, b"ready\n")
    while True:
        try:
            (n,) = struct.unpack(">Q", read_exact(0, 8))
            header = json.loads(read_exact(0, n))
        except EOFError:
            return
        try:
            own, facts = run_job(header)
        except BaseException as e:  # noqa: BLE001
            own, facts = {"error": f"server: {type(e).__name__}: {e}"}, None
        data = json.dumps(own).encode()
        size = os.fstat(facts).st_size if facts is not None else 0
        write_all(1, struct.pack(">Q", len(data)) + data + struct.pack(">Q", size))
        offset = 0
        while offset < size:
            offset += os.sendfile(1, facts, offset, size - offset)
        if facts is not None:
            os.close(facts)
        if once or "error" in own or own["job_timed_out"] or own["init_status"] != 0:
            return  # the control stream may hold body bytes the job did not read: start afresh


if __name__ == "__main__":
    main()
