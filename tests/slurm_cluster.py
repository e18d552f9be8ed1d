"""Start and stop a real single-node SLURM (munged, slurmctld, slurmd) for the SLURM profile's tests.

`tools/slurm_ci.sh` installs the Debian packages and writes /etc/slurm/slurm.conf; this module starts
the daemons in the foreground as child processes, waits until `sinfo` shows the node idle, and stops
exactly the processes it started, by PID. A daemon that dies or a node that never becomes idle raises
SlurmStartError with the daemons' own messages.
"""

import contextlib
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP_SCRIPT = ROOT / "tools" / "slurm_ci.sh"
STATE = Path("/var/lib/latentfacts-slurm-ci")
DAEMON_LOGS = [STATE / "log" / "slurmctld.log", STATE / "log" / "slurmd.log"]
# Partition names of the CI cluster (tools/slurm_ci.sh) in place of profiles/slurm's.
CI_PARTITIONS = {"cpu": "ci_cpu", "gpu": "ci_gpu"}


class SlurmStartError(RuntimeError):
    """SLURM could not be set up or started; the message carries the daemons' output."""


def _tail(path, lines=30):
    path = Path(path)
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _daemon_report(daemons):
    parts = []
    for name, (proc, output) in daemons.items():
        state = "running" if proc.poll() is None else f"exited with {proc.returncode}"
        parts.append(f"--- {name} ({state}), output {output}:\n{_tail(output)}")
    parts += [f"--- {log}:\n{_tail(log)}" for log in DAEMON_LOGS]
    return "\n".join(parts)


def configure():
    """Run tools/slurm_ci.sh (install if missing, write the config); raise with its output on failure."""
    proc = subprocess.run(["bash", str(SETUP_SCRIPT)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SlurmStartError(
            f"{SETUP_SCRIPT} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def _node_state():
    proc = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else f"sinfo failed: {proc.stderr.strip()}"


@contextlib.contextmanager
def running_slurm(timeout=60):
    """Configure and start SLURM; yield when the node is idle; stop the daemons on exit."""
    configure()
    out_dir = STATE / "log"
    # Daemons in the foreground (-D/-F) so that the PIDs we hold are the daemons themselves.
    commands = {
        "munged": (["munged", "--foreground", "--force"], {"user": "munge", "group": "munge"}),
        "slurmctld": (["slurmctld", "-D", "-c", "-i"], {}),
        "slurmd": (["slurmd", "-D"], {}),
    }
    daemons = {}
    try:
        for name, (cmd, user) in commands.items():
            output = out_dir / f"{name}.out"
            with open(output, "w") as stream:
                proc = subprocess.Popen(cmd, stdout=stream, stderr=subprocess.STDOUT, **user)
            daemons[name] = (proc, output)
            time.sleep(1.0)  # munged must listen before slurmctld authenticates
        deadline = time.monotonic() + timeout
        while (state := _node_state()) != "idle":
            dead = [name for name, (proc, _) in daemons.items() if proc.poll() is not None]
            if dead or time.monotonic() > deadline:
                why = f"{', '.join(dead)} exited" if dead else f"node not idle after {timeout} s (sinfo: {state!r})"
                raise SlurmStartError(f"SLURM did not start: {why}\n{_daemon_report(daemons)}")
            time.sleep(0.5)
        yield
    finally:
        for proc, _ in reversed(list(daemons.values())):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
