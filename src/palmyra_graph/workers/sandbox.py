"""Confinement of the processes a server starts, with what Linux offers an unprivileged process.

- :func:`die_with_parent`: ``prctl(PR_SET_PDEATHSIG)``, so a child never outlives the process
  that started it (a killed ``serve`` leaves nothing behind);
- :func:`forbid_network`: a seccomp filter (https://docs.kernel.org/userspace-api/seccomp_filter.html)
  that makes ``socket()`` and ``socketpair()`` fail with ``EACCES`` for every address family
  but ``AF_UNIX``, and refuses ``io_uring_setup`` (which could open sockets around the filter).
  A query worker sealed this way cannot reach any host, whatever query it is given: no TCP, no
  UDP, no DNS lookup. It needs ``PR_SET_NO_NEW_PRIVS``, which any process may set for itself;
- :func:`limit_memory`: ``RLIMIT_AS``, so an allocation past the cap fails in the process that
  asked for it (Rust aborts on a failed allocation; Python raises ``MemoryError``).

Each returns whether it took effect: on another system (or an architecture whose system call
numbers are not known here) nothing is confined and the caller says so.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import signal
import struct
import sys

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_AF_UNIX = 1

#: (audit architecture, seccomp system call, socket, socketpair, io_uring_setup) per machine.
_SYSCALLS = {
    "x86_64": (0xC000003E, 317, 41, 53, 425),
    "aarch64": (0xC00000B7, 277, 198, 199, 425),
}
#: x86_64 system calls of the x32 ABI carry this bit; none is needed, so all are refused.
_X32_SYSCALL_BIT = 0x40000000

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x00 | 0x00 | 0x20
_JEQ_K = 0x05 | 0x10 | 0x00
_JGE_K = 0x05 | 0x30 | 0x00
_RET_K = 0x06 | 0x00
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000
# Offsets in struct seccomp_data: nr, arch, instruction pointer, args[6] (little-endian).
_NR, _ARCH, _ARG0 = 0, 4, 16


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    return ctypes.CDLL(None, use_errno=True)


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Have the kernel send ``sig`` to this process when its parent exits.

    Call it in the child right after it starts; if the parent is already gone by then (its
    pid is no longer our parent's), the child exits at once.
    """
    libc = _libc()
    if libc is None or libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0) != 0:
        return False
    if os.getppid() == 1:  # the parent died before the request took effect
        os._exit(1)
    return True


def _statement(code: int, k: int) -> bytes:
    return struct.pack("HBBI", code, 0, 0, k)


def _jump(code: int, k: int, if_true: int, if_false: int) -> bytes:
    return struct.pack("HBBI", code, if_true, if_false, k)


def network_filter(machine: str | None = None) -> bytes | None:
    """The BPF program of :func:`forbid_network` for ``machine`` (default: this one)."""
    numbers = _SYSCALLS.get(machine or platform.machine())
    if numbers is None:
        return None
    arch, _, socket_nr, socketpair_nr, io_uring_nr = numbers
    refuse = _RET_ERRNO | errno.EACCES
    program = [
        _statement(_LD_W_ABS, _ARCH),
        _jump(_JEQ_K, arch, 1, 0),
        _statement(_RET_K, _RET_KILL_PROCESS),  # a foreign ABI: no system call of ours
        _statement(_LD_W_ABS, _NR),
        _jump(_JGE_K, _X32_SYSCALL_BIT, 0, 1),
        _statement(_RET_K, refuse),
        _jump(_JEQ_K, socket_nr, 3, 0),
        _jump(_JEQ_K, socketpair_nr, 2, 0),
        _jump(_JEQ_K, io_uring_nr, 4, 0),
        _statement(_RET_K, _RET_ALLOW),
        _statement(_LD_W_ABS, _ARG0),  # the address family
        _jump(_JEQ_K, _AF_UNIX, 0, 1),
        _statement(_RET_K, _RET_ALLOW),
        _statement(_RET_K, refuse),
    ]
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def forbid_network() -> bool:
    """Install the seccomp filter for this process and every process it starts (irrevocable)."""
    libc = _libc()
    program = network_filter()
    if libc is None or program is None:
        return False
    seccomp_nr = _SYSCALLS[platform.machine()][1]
    buffer = ctypes.create_string_buffer(program)
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return bool(libc.syscall(seccomp_nr, _SECCOMP_SET_MODE_FILTER, 0, ctypes.byref(fprog)) == 0)


def limit_memory(extra_bytes: int) -> bool:
    """Cap this process's address space at what it uses now plus ``extra_bytes``."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            pages = int(statm.read().split()[0])
    except OSError:
        return False
    limit = pages * os.sysconf("SC_PAGE_SIZE") + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    return True
