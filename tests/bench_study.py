"""Benchmark of the whole embedded study (a script, not a test): `make study`'s command run end to end
in fresh copies of this checkout, one after the other, on this machine's cores (the local profile).

    python tests/bench_study.py                          # three runs of the default study (3 seeds)
    python tests/bench_study.py --runs 1 --configfile config/models.yaml --out bench_study.json

Each run copies the tracked files (with their uncommitted edits) into a temporary directory, so nothing
of results/ is reused, and times Snakemake from its first job to its last ("Elapsed time" in its log;
the virtual environment already exists). The table adds the longest jobs' times from the rules'
`benchmark:` files and the load average before the run: timings of a machine that runs something else
are not comparable, so run it on a quiet machine and compare medians of several runs.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the jobs whose times the table shows, as rule names in results/**/benchmarks/ paths
PARTS = {"pretrain_base": "pretrain_base.tsv", "finetune": "finetune/", "evaluate": "evaluate/", "baseline": "baseline.tsv"}


def fresh_copy(destination):
    """The repository's tracked files, as they are in the working tree, under `destination`."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def elapsed_seconds(workdir):
    """Snakemake's own wall time of the run in `workdir`, from the log it writes last."""
    log = max((workdir / ".snakemake" / "log").glob("*.snakemake.log"), key=os.path.getmtime)
    hours, minutes, seconds = re.search(r"Elapsed time: (\d+):(\d+):([\d.]+)", log.read_text()).groups()
    return 3600 * int(hours) + 60 * int(minutes) + float(seconds)


def job_seconds(workdir):
    """Mean wall seconds of each part's jobs, from the rules' benchmark files."""
    found = {part: [] for part in PARTS}
    for path in (workdir / "results").rglob("benchmarks/**/*.tsv"):
        relative = path.as_posix().split("benchmarks/", 1)[1]
        for part, marker in PARTS.items():
            if relative.startswith(marker):
                found[part].append(float(path.read_text().splitlines()[1].split("\t")[0]))
    return {part: statistics.mean(times) if times else None for part, times in found.items()}


def one_run(configfiles):
    with tempfile.TemporaryDirectory(prefix="latentfacts-bench-") as directory:
        workdir = Path(directory)
        fresh_copy(workdir)
        load = os.getloadavg()[0]
        command = [sys.executable, "-m", "latentfacts.study", "--profile", "profiles/local"]
        if configfiles:
            command += ["--configfile", *configfiles]
        environment = {**os.environ, "PYTHONPATH": str(workdir / "workflow")}
        finished = subprocess.run(command, cwd=workdir, env=environment, capture_output=True, text=True)
        if finished.returncode:
            sys.exit(f"the study failed in {workdir}:\n{finished.stdout[-3000:]}{finished.stderr[-3000:]}")
        return {"seconds": elapsed_seconds(workdir), "load_before": load, "jobs": job_seconds(workdir)}


def minutes(seconds):
    return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--configfile", nargs="*", default=[], help="config files added to config/config.yaml")
    parser.add_argument("--out", type=Path, help="write the runs and their median as JSON")
    args = parser.parse_args()
    runs = []
    print(f"{'run':>3}  {'end to end':>12}  {'load before':>11}  " + "  ".join(f"{part:>13}" for part in PARTS), flush=True)
    for number in range(1, args.runs + 1):
        run = one_run(args.configfile)
        runs.append(run)
        parts = "  ".join(f"{run['jobs'][part]:>12.1f}s" if run["jobs"][part] else f"{'-':>13}" for part in PARTS)
        print(f"{number:>3}  {minutes(run['seconds']):>12}  {run['load_before']:>11.2f}  {parts}", flush=True)
    median = statistics.median(run["seconds"] for run in runs)
    print(f"median of {len(runs)}: {minutes(median)} ({median:.1f} s); job columns: mean seconds of that rule's jobs")
    if args.out:
        result = {"configfiles": args.configfile, "cores": os.cpu_count(), "runs": runs, "median_seconds": median}
        args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
