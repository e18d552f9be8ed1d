"""On a finished shrunken study (three epochs, the withdrawal arm on, frequencies from a real HTTP server
on 127.0.0.1 that answers like PubMed's E-utilities): each config edit schedules exactly the jobs whose
results it changes (dry runs), and a training run killed with SIGKILL continues from its last finished
epoch with the same command, ending bit-identical to the uninterrupted run."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psutil
import pytest
import yaml

from conftest import copy_project, run_snakemake, small_study_args

EXTRA = {
    "finetune": {"epochs": 3},
    "measurements": {"withdrawal": {"enabled": True, "after_epoch": 1}},
}
EPOCHS = 3
MAIN = "results/models/default/runs/seed0"
ENDPOINTS = 5
ANALYSIS = {
    "trajectories": 1, "survival_tables": 1, "cox": ENDPOINTS, "discrete_time": ENDPOINTS, "effects": ENDPOINTS,
    "hazard_ratio_tables": 1, "effect_table": 1, "kaplan_meier": 1, "km_contrasts": 1, "degradation_exposure": 1,
    "dynamics": 1, "figures": 1, "summary": 1, "report_pages": 1, "all": 1,
}


class Eutils(ThreadingHTTPServer):
    """esearch.fcgi answering a count that depends on the phrase (so the covariates vary)."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                term = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(self.path).query))["term"]
                body = json.dumps({"esearchresult": {"count": str(sum(map(ord, term)) % 997)}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server_address[1]}/entrez/eutils/"


def merged(base, edit):
    out = dict(base)
    for key, value in edit.items():
        out[key] = merged(out.get(key, {}), value) if isinstance(value, dict) else value
    return out


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The shrunken study run to the end once; the tests dry-run edits against it or copy it."""
    project = copy_project(tmp_path_factory.mktemp("finished") / "project")
    server = Eutils()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pubmed = {"base_url": server.base_url, "email": None, "tool": "latentfacts", "requests_per_second": None,
              "retries": 1, "cache": "resources/pubmed_counts.jsonl"}
    extra = merged(EXTRA, {"frequency": {"source": "pubmed", "pubmed": pubmed}})
    args = small_study_args(project, yaml.safe_dump(extra))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NCBI_API_KEY", "test-key")  # ten requests a second instead of three
        run_snakemake(project, *args)
    server.shutdown()
    server.server_close()
    return project, extra


def scheduled(project, base, edit):
    """Counter of the jobs ('rule' or 'rule[wildcards]') a dry run schedules after `edit` of the config."""
    (project / "edit.yaml").write_text(yaml.safe_dump(merged(base, edit)))
    proc = run_snakemake(project, "--dry-run", "--configfile", "small.yaml", "edit.yaml")
    jobs = Counter()
    for match in re.finditer(r"^(?:local)?rule (\w+):\n((?:    .*\n)*)", proc.stdout, flags=re.M):
        wildcards = re.search(r"^    wildcards: (.*)$", match.group(2), flags=re.M)
        # the one model's name, in every model job's wildcards, left out
        wildcards = wildcards and re.sub(r"model=default(, )?", "", wildcards.group(1))
        jobs[f"{match.group(1)}[{wildcards}]" if wildcards else match.group(1)] += 1
    return jobs


def rules_of(jobs):
    return Counter(job.split("[")[0] for job in jobs.elements())


@pytest.mark.workflow
def test_edits_that_cannot_change_a_result_schedule_nothing(finished):
    project, base = finished
    assert scheduled(project, base, {}) == Counter()
    for edit in (
        {"evaluate": {"batch_size": 7}},
        {"baseline": {"batch_size": 5}},
        {"model": {"device": "cpu"}},
        {"frequency": {"pubmed": {"email": "someone@example.org", "requests_per_second": 2.5}}},
    ):
        assert scheduled(project, base, edit) == Counter(), edit


@pytest.mark.workflow
def test_a_new_seed_schedules_its_own_runs_and_what_reads_every_seed(finished):
    project, base = finished
    jobs = scheduled(project, base, {"finetune": {"replicates": [0, 1]}})
    new_seed = {f"{rule}[seed=1]": 1 for rule in
                ("withdrawn_facts", "finetune_main", "evaluate_main", "finetune_withdrawal", "evaluate_withdrawal")}
    readers = {"run_facts": 1, "logprob_dynamics": 1, "forgetting_exposure": 1, "reverse_probe": 1, "linear_probe": 1,
               "retainability": 1}
    assert {job for job in jobs if "seed=" in job} == set(new_seed)
    assert rules_of(jobs) == Counter({**rules_of(Counter(new_seed)), **readers, **ANALYSIS})


@pytest.mark.workflow
def test_analysis_settings_schedule_analysis_rules_only(finished):
    project, base = finished
    jobs = scheduled(project, base, {"analysis": {"covariates": ["latent", "depth", "ontology"]}})
    # the trajectories do not depend on the covariates chosen for the models
    assert rules_of(jobs) == Counter({rule: n for rule, n in ANALYSIS.items() if rule != "trajectories"})


@pytest.mark.workflow
def test_withdrawal_fraction_schedules_the_withdrawal_arm_and_its_readers(finished):
    project, base = finished
    jobs = scheduled(project, base, {"measurements": {"withdrawal": {"fraction": 0.5}}})
    assert jobs == Counter(
        {"withdrawn_facts[seed=0]": 1, "finetune_withdrawal[seed=0]": 1, "evaluate_withdrawal[seed=0]": 1,
         "retainability": 1, "all": 1}
    )


@pytest.mark.workflow
def test_baseline_samples_schedule_the_baseline_and_its_readers_not_training(finished):
    project, base = finished
    jobs = scheduled(project, base, {"baseline": {"samples": 7}})
    assert rules_of(jobs) == Counter({"baseline": 1, **ANALYSIS})


@pytest.mark.workflow
def test_a_scoring_setting_reruns_evaluation_not_training(finished):
    project, base = finished
    jobs = scheduled(project, base, {"evaluate": {"crosscheck_facts": 3}})
    assert "finetune_main[seed=0]" not in jobs and "finetune_withdrawal[seed=0]" not in jobs
    assert {"baseline", "evaluate_main[seed=0]", "evaluate_withdrawal[seed=0]"} <= set(jobs)


# --- a killed training run ---


def study_command(target, *configs):
    """`make study`'s command for one target (the same command before and after the kill)."""
    return [sys.executable, "-m", "latentfacts.study", "--profile", "profiles/local", target, "--configfile", *configs]


def kill_after(project, command, epoch_dir):
    """Start `command`, and SIGKILL Snakemake and its job once `epoch_dir` (a finished epoch) exists."""
    proc = subprocess.Popen(command, cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 1200
    while not (project / epoch_dir).is_dir():
        assert proc.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline, "no finished epoch in time"
        time.sleep(0.01)  # an epoch of the shrunken study takes well under a second
    tree = [proc.pid, *(child.pid for child in psutil.Process(proc.pid).children(recursive=True))]
    for pid in tree:
        os.kill(pid, signal.SIGKILL)
    proc.wait()
    assert (project / ".snakemake/locks").is_dir() and any((project / ".snakemake/locks").iterdir())


def finished_copy(finished, dest):
    """A copy of the finished study whose main run has to be trained and evaluated again."""
    project, _ = finished
    shutil.copytree(project, dest, symlinks=True)
    shutil.rmtree(dest / MAIN / "finetune")
    shutil.rmtree(dest / MAIN / "eval")
    return dest


@pytest.mark.workflow
def test_a_killed_run_continues_from_its_last_finished_epoch(finished, tmp_path):
    project = finished_copy(finished, tmp_path / "project")
    command = study_command(f"{MAIN}/eval/epoch_{EPOCHS:02d}.parquet", "small.yaml", "extra.yaml")
    kill_after(project, command, f"{MAIN}/resume/epoch_02")
    first = project / f"{MAIN}/resume/epoch_01/adapter_model.safetensors"
    before = first.stat()

    proc = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    log = (project / "results/models/default/logs/finetune/runs/seed0.log").read_text()
    assert "resuming after epoch 2" in log
    trained = re.findall(r"epoch (\d+): mean training loss", log.split("resuming after epoch 2")[-1])
    assert trained == ["3"]
    # epoch 1 was not trained again: its delivered file is the one written before the kill
    delivered = (project / f"{MAIN}/finetune/epoch_01/adapter_model.safetensors").stat()
    assert (delivered.st_ino, delivered.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not (project / f"{MAIN}/resume").exists()

    uninterrupted, _ = finished
    for epoch in range(1, EPOCHS + 1):
        for name in ("adapter_model.safetensors", "training_state.pt", "seen_order.parquet"):
            path = f"{MAIN}/finetune/epoch_{epoch:02d}/{name}"
            assert (project / path).read_bytes() == (uninterrupted / path).read_bytes(), path
    for epoch in range(EPOCHS + 1):
        path = f"{MAIN}/eval/epoch_{epoch:02d}.parquet"
        assert (project / path).read_bytes() == (uninterrupted / path).read_bytes(), path


@pytest.mark.workflow
def test_a_changed_learning_rate_after_a_kill_starts_from_the_first_epoch(finished, tmp_path):
    project = finished_copy(finished, tmp_path / "project")
    target = f"{MAIN}/finetune/epoch_{EPOCHS:02d}"
    kill_after(project, study_command(target, "small.yaml", "extra.yaml"), f"{MAIN}/resume/epoch_01")
    (project / "lr.yaml").write_text("finetune: {learning_rate: 1.0e-3}\n")
    proc = subprocess.run(
        study_command(target, "small.yaml", "extra.yaml", "lr.yaml"), cwd=project, capture_output=True, text=True, timeout=1500
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    log = (project / "results/models/default/logs/finetune/runs/seed0.log").read_text()
    assert "made with other settings or inputs: starting from the first epoch" in log
    assert "resuming" not in log
    assert re.findall(r"epoch (\d+): mean training loss", log) == ["1", "2", "3"]
    uninterrupted, _ = finished
    path = f"{MAIN}/finetune/epoch_01/adapter_model.safetensors"
    assert (project / path).read_bytes() != (uninterrupted / path).read_bytes()


# --- what the machine can tell before any job runs ---


@pytest.mark.workflow
def test_cuda_without_a_gpu_stops_before_any_job_and_keeps_the_outputs(finished, tmp_path):
    project, base = finished
    baseline = project / "results/models/default/baseline.parquet"
    before = (baseline.read_bytes(), baseline.stat().st_mtime_ns)
    (project / "edit.yaml").write_text(yaml.safe_dump(merged(base, {"model": {"device": "cuda"}})))
    env = os.environ | {"CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--profile", "profiles/local", "--forcerun", "baseline",
         "--configfile", "small.yaml", "edit.yaml"],
        cwd=project, env=env, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode != 0
    assert "config key model.device is 'cuda' but no CUDA device is visible" in proc.stdout + proc.stderr
    assert "rule baseline" not in proc.stdout + proc.stderr  # no job started
    assert (baseline.read_bytes(), baseline.stat().st_mtime_ns) == before


@pytest.mark.workflow
def test_a_local_model_directory_without_config_json_fails_the_dag(finished, tmp_path):
    project, base = finished
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "tokenizer.json").write_text("{}")
    edit = {"model": {"name_or_path": str(tmp_path / "model")}}
    (project / "edit.yaml").write_text(yaml.safe_dump(merged(base, edit)))
    proc = run_snakemake(project, "--dry-run", "--configfile", "small.yaml", "edit.yaml", check=False)
    assert proc.returncode != 0
    assert f"model directory '{tmp_path / 'model'}' (config key model.name_or_path) has no config.json" in proc.stdout + proc.stderr
