"""Start and stop a real single-node SLURM (munged, slurmctld, slurmd) for the SLURM profile's tests.

`tools/slurm_ci.sh` installs the Debian packages if they are missing and writes the cluster's config,
munge key, state and logs into a temporary directory; this module starts the daemons there in the
foreground as child processes (with SLURM_CONF pointing at that config), waits until `sinfo` shows the
node idle, and on exit stops exactly the processes it started, by PID, and removes the directory. A
daemon that dies or a node that never becomes idle raises SlurmStartError with the daemons' own messages.

One thing lives outside the directory while the cluster runs: /etc/slurm/slurm.conf, a link to its
config, because Snakemake's job-step executor strips SLURM_* variables (SLURM_CONF too) from the
environment of the `srun` it starts inside each job. The link is removed with the cluster, and a machine
that already has that file (a real cluster) is refused rather than touched.
"""

import contextlib
import os
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP_SCRIPT = ROOT / "tools" / "slurm_ci.sh"
# Partition names of the CI cluster (tools/slurm_ci.sh) in place of profiles/slurm's.
CI_PARTITIONS = {"cpu": "ci_cpu", "gpu": "ci_gpu"}
# Where SLURM's commands look for their config when SLURM_CONF is not set.
DEFAULT_CONF = Path("/etc/slurm/slurm.conf")


class SlurmStartError(RuntimeError):
    """SLURM could not be set up or started; the message carries the daemons' output."""


def _tail(path, lines=30):
    path = Path(path)
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _daemon_report(daemons, logs):
    parts = []
    for name, (proc, output) in daemons.items():
        state = "running" if proc.poll() is None else f"exited with {proc.returncode}"
        parts.append(f"--- {name} ({state}), output {output}:\n{_tail(output)}")
    parts += [f"--- {log}:\n{_tail(log)}" for log in logs]
    return "\n".join(parts)


def configure(directory):
    """Run tools/slurm_ci.sh (install if missing, write the cluster into `directory`); raise with its
    output on failure."""
    proc = subprocess.run(["bash", str(SETUP_SCRIPT), str(directory)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SlurmStartError(
            f"{SETUP_SCRIPT} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )


def _node_state(env):
    proc = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True, env=env)
    return proc.stdout.strip() if proc.returncode == 0 else f"sinfo failed: {proc.stderr.strip()}"


def _stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Cluster:
    """A running cluster: `env` is this process's environment with SLURM_CONF set (for sbatch, squeue,
    Snakemake), `directory` holds its config, state and logs (`log/slurmctld.log`)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.env = os.environ | {"SLURM_CONF": str(self.directory / "slurm.conf")}
        self.daemons = []  # the Popen of each daemon started


def leftovers(cluster):
    """What a stopped cluster left behind: its directory, the default config link, daemons still running."""
    left = [str(path) for path in (cluster.directory, DEFAULT_CONF) if path.exists() or path.is_symlink()]
    return left + [" ".join(proc.args) for proc in cluster.daemons if proc.poll() is None]


@contextlib.contextmanager
def running_slurm(timeout=60):
    """Configure and start SLURM in a temporary directory; yield a Cluster when the node is idle; stop
    the daemons and remove the directory on exit."""
    if DEFAULT_CONF.exists() or DEFAULT_CONF.is_symlink():
        raise SlurmStartError(f"{DEFAULT_CONF} exists: this test starts its own cluster, on a machine without one")
    with tempfile.TemporaryDirectory(prefix="latentfacts-slurm-") as directory:
        cluster = Cluster(directory)
        configure(cluster.directory)
        munge = cluster.directory / "munge"
        # Daemons in the foreground (-D/-F) so that the PIDs we hold are the daemons themselves.
        commands = {
            "munged": (
                [
                    "munged",
                    "--foreground",
                    f"--socket={cluster.directory / 'munge-socket' / 'munge.socket.2'}",
                    f"--key-file={munge / 'munge.key'}",
                    f"--pid-file={cluster.directory / 'munge-socket' / 'munged.pid'}",
                    f"--log-file={munge / 'munged.log'}",
                    f"--seed-file={munge / 'munged.seed'}",
                ],
                {"user": "munge", "group": "munge"},
            ),
            "slurmctld": (["slurmctld", "-D", "-c", "-i"], {}),
            "slurmd": (["slurmd", "-D"], {}),
        }
        logs = [cluster.directory / "log" / name for name in ("slurmctld.log", "slurmd.log")] + [munge / "munged.log"]
        daemons = {}
        DEFAULT_CONF.parent.mkdir(exist_ok=True)
        DEFAULT_CONF.symlink_to(cluster.directory / "slurm.conf")
        try:
            for name, (cmd, user) in commands.items():
                output = cluster.directory / "log" / f"{name}.out"
                with open(output, "w") as stream:
                    proc = subprocess.Popen(cmd, stdout=stream, stderr=subprocess.STDOUT, env=cluster.env, **user)
                daemons[name] = (proc, output)
                cluster.daemons.append(proc)
                time.sleep(1.0)  # munged must listen before slurmctld authenticates
            deadline = time.monotonic() + timeout
            while (state := _node_state(cluster.env)) != "idle":
                dead = [name for name, (proc, _) in daemons.items() if proc.poll() is not None]
                if dead or time.monotonic() > deadline:
                    why = f"{', '.join(dead)} exited" if dead else f"node not idle after {timeout} s (sinfo: {state!r})"
                    raise SlurmStartError(f"SLURM did not start: {why}\n{_daemon_report(daemons, logs)}")
                time.sleep(0.5)
            yield cluster
        finally:
            for proc, _ in reversed(list(daemons.values())):
                _stop(proc)
            DEFAULT_CONF.unlink()
