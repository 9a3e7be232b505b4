"""A sandbox per submission: the kernel runs under bubblewrap (``bwrap``, Debian's
``bubblewrap``, the sandbox behind Flatpak).

What the kernel gets: the machine's files read-only (the system, Python, the library, the
data), with the batch's submissions, CSV and gradebook hidden (``/dev/null`` over each);
an empty ``/tmp``; one writable folder, private to this submission, holding its notebook's
run (its own HOME and IPython folder in it, so a startup file written by one notebook
reaches no later one); no network (``--unshare-net``: the kernel speaks to the grader over
Unix sockets in that folder); its own process namespace (``--unshare-pid``: it sees and
signals no other process, and ``--die-with-parent`` with the namespace's end stops all it
started, ``setsid`` or not); no capabilities; limits on memory, CPU time and file size
(``setrlimit`` before the kernel starts).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BWRAP = "bwrap"
_LIMITS = """
import os, resource, signal, sys, threading
for name, value in [("RLIMIT_AS", {memory}), ("RLIMIT_CPU", {cpu}), ("RLIMIT_FSIZE", {fsize}),
                    ("RLIMIT_CORE", 0)]:
    resource.setrlimit(getattr(resource, name), (value, value))
lifeline = int(sys.argv[1])  # the grader holds its other end: EOF when the grader is gone
child = os.fork()  # the kernel's parent is not the namespace's init, which it takes for dead
if child == 0:
    os.close(lifeline)
    os.execv(sys.argv[2], sys.argv[2:])
def watch():
    while os.read(lifeline, 1):
        pass
    if os.getpid() == 2:  # pid 2 of a namespace of its own: everything in it goes
        os.kill(-1, signal.SIGKILL)
    os.kill(child, signal.SIGKILL)
    os._exit(1)
threading.Thread(target=watch, daemon=True).start()
for number in (signal.SIGINT, signal.SIGTERM):
    signal.signal(number, lambda n, frame: os.kill(child, n))
while True:
    try:
        sys.exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
    except InterruptedError:
        pass
"""


def bwrap_path() -> str | None:
    """Where ``bwrap`` is, or None."""
    return shutil.which(BWRAP)


def sandbox_problem() -> str | None:
    """None when bubblewrap can seal a kernel here, else why not (one line)."""
    path = bwrap_path()
    if path is None:
        return "bubblewrap (bwrap) is not installed"
    trial = [path, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net"]
    trial += ["--unshare-pid", "--die-with-parent", "--", sys.executable, "-c", "pass"]
    try:
        done = subprocess.run(trial, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bubblewrap does not start ({error})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bubblewrap does not start here ({last})"
    return None


@dataclass
class Sandbox:
    """The seal around each kernel, and its limits.

    Attributes:
        memory: Bytes of address space (``RLIMIT_AS``; TensorFlow reserves far more than it
            uses, so this is generous).
        cpu_seconds: CPU seconds, all threads together (``RLIMIT_CPU``).
        file_size: The largest file the kernel may write (``RLIMIT_FSIZE``).
        hidden: Files the kernel must not read (the batch's notebooks, CSV, gradebook).

    Introduced with issue 31.
    """

    memory: int = 32 * 2**30
    cpu_seconds: int = 3600
    file_size: int = 512 * 2**20
    hidden: list[Path] = field(default_factory=list)

    def command(self, folder: Path, argv: list[str], lifeline: int) -> list[str]:
        """``argv`` (the kernel's command) sealed in ``folder``, its private writable folder;
        when the file descriptor ``lifeline`` (a pipe's read end) closes, all of it ends."""
        folder = Path(folder).resolve()
        home = folder / "home"
        (home / ".ipython").mkdir(parents=True, exist_ok=True)
        keras_home = os.environ.get("KERAS_HOME", str(Path.home() / ".keras"))
        args = [bwrap_path() or BWRAP, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        args += ["--tmpfs", "/tmp"]
        for path in self.hidden:
            if Path(path).is_file():
                args += ["--ro-bind", "/dev/null", str(Path(path).resolve())]
        args += ["--bind", str(folder), str(folder), "--chdir", str(folder / "work")]
        args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
        args += ["--die-with-parent", "--new-session", "--cap-drop", "ALL"]
        for key, value in {
            "HOME": home,
            "IPYTHONDIR": home / ".ipython",
            "JUPYTER_RUNTIME_DIR": home / "runtime",
            "MPLCONFIGDIR": home / "matplotlib",
            "XDG_CACHE_HOME": home / "cache",
            "KERAS_HOME": keras_home,
            "TMPDIR": "/tmp",
        }.items():
            args += ["--setenv", key, str(value)]
        limits = _LIMITS.format(memory=self.memory, cpu=self.cpu_seconds, fsize=self.file_size)
        return [*args, "--", sys.executable, "-c", limits, str(lifeline), *argv]

    def client_options(self, folder: Path) -> dict:
        """The :class:`nbclient.NotebookClient` options that start its kernel sealed."""
        return {"kernel_manager_class": self._manager(Path(folder).resolve())}

    def _manager(self, folder: Path):
        from jupyter_client.manager import AsyncKernelManager

        sandbox = self
        sockets = folder / "ipc"
        sockets.mkdir(exist_ok=True)

        class Sealed(AsyncKernelManager):
            """A kernel under bubblewrap, reached over Unix sockets in its folder."""

            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.transport = "ipc"
                self.ip = str(sockets / "k")
                self.connection_file = str(sockets / "kernel.json")

            def format_kernel_cmd(self, extra_arguments=None):
                argv = super().format_kernel_cmd(extra_arguments)
                if argv and Path(argv[0]).name.startswith("python"):
                    argv[0] = sys.executable
                self._lifeline = os.pipe()  # the write end stays here, open while we live
                return sandbox.command(folder, argv, self._lifeline[0])

            async def _async_launch_kernel(self, kernel_cmd, **kw):
                kw["pass_fds"] = (self._lifeline[0],)
                try:
                    await super()._async_launch_kernel(kernel_cmd, **kw)
                finally:
                    os.close(self._lifeline[0])

            async def _async_cleanup_resources(self, restart=False):
                await super()._async_cleanup_resources(restart)
                if getattr(self, "_lifeline", None):
                    os.close(self._lifeline[1])
                    self._lifeline = None

        return Sealed
