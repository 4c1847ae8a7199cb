"""A seccomp filter for sandboxed samples (standard library only; runs inside the sandbox).

Namespaces, a fresh uid and dropped capabilities already stop most of what a sample could do to the host. The
filter closes what they leave open to an unprivileged process:
- user namespaces: inside one a sample has every capability again, can mount its own filesystems and builds
  the kernel attack surface it likes (clone/unshare with CLONE_NEWUSER -> EPERM; clone3 -> ENOSYS, because its
  flags sit in memory a filter cannot read; glibc then falls back to clone, which the filter can check);
- the kernel keyring, which is not namespaced: a channel between samples (keyctl, add_key, request_key);
- the network: only Unix sockets may be created (socket/socketpair with AF_UNIX). A sandbox server's jobs share
  its network namespace (a fresh one per job costs as much as the whole rest of a sample), and through the
  network a sample could leave marks there for the next one (sockets in TIME_WAIT, the counters of
  /proc/net/snmp); without IP, netlink or packet sockets it cannot;
- looking into or steering other processes (ptrace, process_vm_readv/writev), and kernel interfaces no test
  needs and that have a history of exploits (bpf, perf_event_open, userfaultfd, io_uring);
- the administrative calls that already need capabilities (modules, kexec, swap, pivot_root, the new mount
  API): refused here as well. mount and umount2 are left to capabilities alone, because the filter is installed
  once in the sandbox server (so that it costs nothing per sample: every process it starts inherits it) and
  each job's init mounts its /proc and /tmp; samples have no capabilities and no way to get any.
Everything else is allowed. Unknown architectures get no filter; `supported()` says so and `jacode doctor`
reports it.
"""

import ctypes
import os
import struct

# audit arch, syscall numbers (x86_64 from asm/unistd_64.h, aarch64 from asm-generic/unistd.h)
_ARCHES = {
    "x86_64": (0xC000003E, {
        "clone": 56, "unshare": 272, "clone3": 435, "keyctl": 250, "add_key": 248, "request_key": 249,
        "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "perf_event_open": 298, "bpf": 321,
        "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "setns": 308, "pivot_root": 155, "chroot": 161, "open_by_handle_at": 304,
        "name_to_handle_at": 303, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "swapon": 167, "swapoff": 168, "reboot": 169, "fsopen": 430,
        "fsmount": 432, "fsconfig": 431, "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "acct": 163,
        "quotactl": 179, "fanotify_init": 300, "socket": 41, "socketpair": 53}),
    "aarch64": (0xC00000B7, {
        "clone": 220, "unshare": 97, "clone3": 435, "keyctl": 219, "add_key": 217, "request_key": 218,
        "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "perf_event_open": 241, "bpf": 280,
        "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "setns": 268, "pivot_root": 41, "chroot": 51, "open_by_handle_at": 265,
        "name_to_handle_at": 264, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105,
        "finit_module": 273, "delete_module": 106, "swapon": 224, "swapoff": 225, "reboot": 142, "fsopen": 430,
        "fsmount": 432, "fsconfig": 431, "move_mount": 429, "open_tree": 428, "mount_setattr": 442, "acct": 89,
        "quotactl": 60, "fanotify_init": 262, "socket": 198, "socketpair": 199}),
}
ENOSYS_CALLS = ("clone3", "io_uring_setup", "io_uring_enter", "io_uring_register")  # callers fall back
CHECK_FLAGS = ("clone", "unshare")  # allowed unless flags (first argument) ask for a user namespace
CHECK_DOMAIN = ("socket", "socketpair")  # allowed for AF_UNIX (first argument) only
CLONE_NEWUSER = 0x10000000
AF_UNIX = 1
EPERM, ENOSYS = 1, 38

_LD_ABS_W, _JEQ, _JSET, _JGE, _RET = 0x20, 0x15, 0x45, 0x35, 0x06
_ALLOW, _ERRNO, _KILL = 0x7FFF0000, 0x00050000, 0x80000000
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16  # struct seccomp_data; arg0's low 32 bits (little endian)
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2


def supported() -> bool:
    return os.uname().machine in _ARCHES


def program() -> list:
    """The filter as (code, jt, jf, k) instructions."""
    arch, nr = _ARCHES[os.uname().machine]
    ins = [(_LD_ABS_W, 0, 0, _OFF_ARCH), (_JEQ, 1, 0, arch), (_RET, 0, 0, _KILL), (_LD_ABS_W, 0, 0, _OFF_NR)]
    if os.uname().machine == "x86_64":  # the x32 ABI: same kernel, other numbers; no sample needs it
        ins += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, _ERRNO | EPERM)]
    for name in CHECK_FLAGS:
        # nr == name ? (arg0 & CLONE_NEWUSER ? EPERM : ALLOW) : next   (the accumulator is reloaded after)
        ins += [(_JEQ, 0, 4, nr[name]), (_LD_ABS_W, 0, 0, _OFF_ARG0), (_JSET, 0, 1, CLONE_NEWUSER),
                (_RET, 0, 0, _ERRNO | EPERM), (_RET, 0, 0, _ALLOW)]
    for name in CHECK_DOMAIN:
        # nr == name ? (arg0 == AF_UNIX ? ALLOW : EPERM) : next
        ins += [(_JEQ, 0, 4, nr[name]), (_LD_ABS_W, 0, 0, _OFF_ARG0), (_JEQ, 0, 1, AF_UNIX),
                (_RET, 0, 0, _ALLOW), (_RET, 0, 0, _ERRNO | EPERM)]
    for name, number in nr.items():
        if name in CHECK_FLAGS or name in CHECK_DOMAIN:
            continue
        errno = ENOSYS if name in ENOSYS_CALLS else EPERM
        ins += [(_JEQ, 0, 1, number), (_RET, 0, 0, _ERRNO | errno)]
    return ins + [(_RET, 0, 0, _ALLOW)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_compiled = {}  # built once per process (the server): every sample forked from it reuses it
_libc = ctypes.CDLL(None, use_errno=True)


def prepare() -> None:
    """Build the filter now (the server does, once), so that installing it in each sample is one call."""
    if not _compiled:
        ins = program()
        buf = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *i) for i in ins))
        _compiled.update(buf=buf, prog=_SockFprog(len(ins), ctypes.cast(buf, ctypes.c_void_p)))


def install() -> None:
    """Apply the filter to this process and all it starts (for good: filters cannot be removed). Needs
    no_new_privs or CAP_SYS_ADMIN."""
    prepare()
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(_compiled["prog"]), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "seccomp filter not installed")
