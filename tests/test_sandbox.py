"""The sandbox against real hostile programs.

Each hostile program is written so that it would *pass* if the attack worked: a non-pass verdict therefore
shows the defence held. They run in one batch with benign programs, which must keep their verdicts, and
afterwards nothing they started may still be alive.
"""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest

from jacode.evals.code.execution import PythonExecutor, run_many, run_python
from jacode.evals.code.forkserver import forkserver_supported
from jacode.evals.code.sandbox import Limits, Sandbox

pytestmark = pytest.mark.usefixtures("bwrap")


@pytest.fixture(params=["warm", "per-run"])
def mode(request):
    """Both execution paths: warm sandboxes (fork server, needs root) and one bwrap per run."""
    if request.param == "warm" and not forkserver_supported():
        pytest.skip("the warm sandbox needs root (it falls back to per-run bwrap elsewhere)")
    return request.param


def executor(mode: str, limits: Limits | None = None) -> PythonExecutor:
    ex = PythonExecutor(Sandbox(limits or Limits(timeout_s=5.0)), warm=(mode == "warm"))
    assert ex.warm == (mode == "warm")
    return ex

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
    sandbox = Sandbox(Limits(timeout_s=8.0, memory_mb=512, nproc=32))
    start = time.time()
    verdicts = run_many(programs, sandbox, workers=4, dedup=False, warm=(mode == "warm"))
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


def test_pid_namespace_then_kill_all(tmp_path, mode):
    """kill(-1) is only tried after the sandbox is shown to have its own PID namespace."""
    ex = executor(mode)
    probe = ex.run(textwrap.dedent("""
        import os
        pids = [p for p in os.listdir('/proc') if p.isdigit()]
        assert os.getpid() < 10 and len(pids) <= 4, (os.getpid(), pids)
        """))
    assert probe.passed, f"no private PID namespace, refusing to test kill(-1): {probe}"
    # A process of ours outside the sandbox that kill(-1) must not reach.
    import subprocess

    bystander = subprocess.Popen(["sleep", "60"])
    try:
        v = ex.run("import os, signal\nos.kill(-1, signal.SIGKILL)\nassert False\n")
        assert not v.passed
        assert bystander.poll() is None, "kill(-1) inside the sandbox killed a host process"
        # The harness (and, in warm mode, the same server) still works afterwards.
        assert ex.run(BENIGN).passed
    finally:
        bystander.kill()
        bystander.wait()
        ex.close()


def test_fresh_directory_per_run(mode):
    """Nothing one program writes (its directory, /tmp, /dev/shm) is visible to the next on the same worker."""
    ex = executor(mode)
    try:
        first = ex.run(textwrap.dedent("""
            import os
            assert os.getcwd() == '/tmp/work'
            open('left_behind', 'w').write('x')
            open('/tmp/left_in_tmp', 'w').write('x')
            """))
        assert first.passed, first
        second = ex.run(textwrap.dedent("""
            import os
            assert not os.path.exists('left_behind'), os.listdir('.')
            assert not os.path.exists('/tmp/left_in_tmp'), os.listdir('/tmp')
            """))
        assert second.passed, second
    finally:
        ex.close()


def test_runs_unprivileged(mode):
    ex = executor(mode)
    try:
        v = ex.run(textwrap.dedent("""
            import os
            status = open('/proc/self/status').read()
            caps = [l for l in status.splitlines() if l.startswith(('CapEff', 'CapPrm'))]
            assert os.getuid() != 0 and all(l.split()[1] == '0' * 16 for l in caps), (os.getuid(), caps)
            """))
        assert v.passed, v
        # The server that forked it is out of reach: not visible, not signalable.
        v = ex.run(textwrap.dedent("""
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
            """))
        assert not v.passed
        assert ex.run(BENIGN).passed
    finally:
        ex.close()


def test_token_cannot_be_found_in_files_or_environment(mode):
    """The pass token is not in the program's directory or environment, so exiting early cannot fake it."""
    ex = executor(mode)
    v = ex.run(textwrap.dedent("""
        import os
        blobs = [open(f, 'rb').read() for f in os.listdir('.') if os.path.isfile(f)]
        blobs.append(open('/proc/self/environ', 'rb').read())
        blobs.append(open('/proc/self/cmdline', 'rb').read())
        import re
        hexes = set(re.findall(rb'[0-9a-f]{32}', b''.join(blobs)))
        print('candidates', len(hexes))
        for h in hexes:
            os.write(1, b'\\n' + h + b" ('pass', '')\\n")
        os._exit(0)
        """))
    ex.close()
    assert not v.passed and v.status == "exit", v


def test_killing_the_harness_kills_the_sandbox(tmp_path, mode):
    """A sandbox whose harness dies (SIGKILL) must not live on, nor the warm server."""
    import subprocess
    import sys

    script = tmp_path / "harness.py"
    script.write_text(textwrap.dedent(f"""
        from jacode.evals.code.sandbox import Sandbox, Limits
        from jacode.evals.code.execution import PythonExecutor
        ex = PythonExecutor(Sandbox(Limits(timeout_s=60)), warm={mode == "warm"})
        if ex.warm:
            open({str(tmp_path / "server.pid")!r}, "w").write(str(ex._server().proc.pid))
        ex.run("import os\\nos.execv('/bin/sleep', ['sleep', '{MARKER}1'])")
        """))
    proc = subprocess.Popen([sys.executable, str(script)])
    for _ in range(100):
        if processes_with(MARKER + "1"):
            break
        time.sleep(0.1)
    assert processes_with(MARKER + "1"), "the sandboxed sleep never started"
    proc.kill()
    proc.wait()
    for _ in range(50):
        if not processes_with(MARKER + "1"):
            break
        time.sleep(0.1)
    assert processes_with(MARKER + "1") == []
    if mode == "warm":
        server_pid = int((tmp_path / "server.pid").read_text())
        for _ in range(50):
            if not Path(f"/proc/{server_pid}").exists():
                break
            time.sleep(0.1)
        assert not Path(f"/proc/{server_pid}").exists(), "the warm sandbox outlived its harness"


def test_unsafe_backend_warns_loudly():
    with pytest.warns(RuntimeWarning, match="WITHOUT isolation"):
        sandbox = Sandbox(Limits(timeout_s=5.0), backend="none")
    assert run_python(sandbox, BENIGN).passed
    assert not run_python(sandbox, BENIGN_FAIL).passed


def test_killed_warm_server_is_replaced_and_loses_nothing():
    """Killing a worker's warm server between or during samples: later samples still get true verdicts."""
    if not forkserver_supported():
        pytest.skip("the warm sandbox needs root")
    import signal as sig
    import threading as th

    ex = executor("warm", Limits(timeout_s=10.0))
    try:
        assert ex.run(BENIGN).passed
        first = ex._server()
        first.proc.send_signal(sig.SIGKILL)  # killed between samples
        assert ex.run(BENIGN).passed and not ex.run(BENIGN_FAIL).passed
        second = ex._server()
        assert second is not first
        # killed while a sample runs: that sample is re-run on a fresh server, with its true verdict
        th.Timer(0.5, lambda: second.proc.send_signal(sig.SIGKILL)).start()
        v = ex.run("import time\ntime.sleep(1.5)\nassert True\n")
        assert v.passed, v
    finally:
        ex.close()
