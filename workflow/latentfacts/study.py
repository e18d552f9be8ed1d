"""`make study`: Snakemake in this directory, after clearing a lock that a killed Snakemake left behind.

Snakemake locks its working directory (.snakemake/locks) and removes the lock when it ends; a process
killed with SIGKILL (or a laptop that crashed) leaves it, and the next run stops with a LockException.
The lock records no process, so this asks the operating system: when no Snakemake process runs in this
directory (Linux /proc), the lock is stale and `snakemake --unlock` removes it. Training runs that were
cut off continue from their last finished epoch (the local profile reruns incomplete jobs).

    python -m latentfacts.study --profile profiles/local [snakemake arguments]
"""

import os
import subprocess
import sys
from pathlib import Path


def snakemake_processes(workdir):
    """Ids of the Snakemake processes other than this one whose working directory is `workdir`;
    None where the operating system does not tell (no /proc)."""
    proc = Path("/proc")
    if not (proc / "self" / "cwd").exists():
        return None
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != workdir:
                continue
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if any(b"snakemake" in argument for argument in arguments):
            found.append(int(entry.name))
    return found


def is_locked(workdir):
    locks = workdir / ".snakemake" / "locks"
    return locks.is_dir() and any(locks.iterdir())


def main(arguments):
    workdir = Path.cwd().resolve()
    snakemake = [sys.executable, "-m", "snakemake", *arguments]
    if is_locked(workdir):
        running = snakemake_processes(workdir)
        if running == []:
            print(f"{workdir}: removing the lock of a Snakemake run that no longer runs", flush=True)
            subprocess.run([*snakemake, "--unlock"], check=True, stdout=subprocess.DEVNULL)
        elif running is None:
            print(f"{workdir} is locked; if no Snakemake runs here, `snakemake --unlock` removes the lock", flush=True)
    os.execv(sys.executable, snakemake)


if __name__ == "__main__":
    main(sys.argv[1:])
