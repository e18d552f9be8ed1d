"""The data rules through Snakemake on the embedded resources, and bad inputs at the workflow level."""

import gzip
import json
import shutil

import pandas as pd
import pytest
import yaml

from conftest import run_snakemake, table_violations

CORPUS_CONFIG = {"frequency": {"source": "corpus", "corpus": "test_corpus.txt"}}


def fresh(project):
    for part in ("results", "resources/downloads", ".snakemake"):
        shutil.rmtree(project / part, ignore_errors=True)


@pytest.mark.workflow
def test_data_rules_on_embedded_resources(project):
    # a stand-in corpus, so the data rules run without the model stage's synthetic corpus
    (project / "test_corpus.txt").write_text("Seizure HP:0001250 nucleus GO:0005634 nucleus\n" * 3, encoding="utf-8")
    (project / "test.yaml").write_text(yaml.safe_dump(CORPUS_CONFIG))
    run_snakemake(project, "results/data/covariates.parquet", "--configfile", "config/config.yaml", "test.yaml")
    first = pd.read_parquet(project / "results/data/pairs.parquet")
    assert len(first) == 1600
    assert first.groupby(["ontology", "split"]).size().to_dict() == {("GO", "train"): 400, ("GO", "withheld"): 400, ("HPO", "train"): 800}
    assert first.groupby(["ontology", "bin"]).size().nunique() == 1  # equal numbers per bin
    assert table_violations(project, ["terms", "annotations", "pairs", "frequency", "covariates"]) == ({}, 5)
    covariates = pd.read_parquet(project / "results/data/covariates.parquet")
    assert covariates["fact_id"].tolist() == first["fact_id"].tolist()
    assert covariates.isna().sum().sum() == 0
    provenance = yaml.safe_load((project / "resources/downloads/hp_obo.provenance.json").read_text())
    assert provenance["data_version"] == "hp/releases/2025-01-16"
    report = json.loads((project / "results/data/annotations_report.json").read_text())
    assert set(report) == {"HPO", "GO"} and all(entry["warning"] is None for entry in report.values())
    assert report["GO"]["rows_counted"] > 0 and report["GO"]["file"] == "resources/downloads/go_annotations"
    assert "annotation rows counted (gaf)" in (project / "results/logs/annotation_counts.log").read_text()

    fresh(project)
    run_snakemake(project, "results/data/pairs.parquet")
    pd.testing.assert_frame_equal(first, pd.read_parquet(project / "results/data/pairs.parquet"))


@pytest.mark.workflow
def test_dry_run_of_the_whole_workflow(project):
    proc = run_snakemake(project, "-n")
    for rule in ("fetch", "parse_ontology", "annotation_counts", "build_pairs", "literature_frequency", "covariates"):
        assert rule in proc.stdout


def write_config(project, edit):
    path = project / "config/config.yaml"
    config = yaml.safe_load(path.read_text())
    edit(config)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


@pytest.mark.workflow
def test_unknown_config_key_is_named(project):
    write_config(project, lambda c: c["pairs"].update(binz=3))
    proc = run_snakemake(project, "-n", check=False)
    assert proc.returncode != 0 and "'binz' was unexpected" in proc.stderr + proc.stdout


@pytest.mark.workflow
def test_config_value_of_wrong_type_is_named(project):
    write_config(project, lambda c: c["pairs"].update(bins="twenty"))
    proc = run_snakemake(project, "-n", check=False)
    output = proc.stderr + proc.stdout
    assert proc.returncode != 0 and "'twenty' is not of type 'integer'" in output and "bins" in output


@pytest.mark.workflow
def test_missing_input_file_is_named(project):
    write_config(project, lambda c: c["sources"]["hp_obo"].update(path="resources/embedded/nowhere.obo.gz"))
    proc = run_snakemake(project, "-n", check=False)
    output = proc.stderr + proc.stdout
    assert proc.returncode != 0 and "Missing input files" in output and "resources/embedded/nowhere.obo.gz" in output


@pytest.mark.workflow
def test_bad_obo_fails_with_file_and_line_and_leaves_no_output(project):
    (project / "resources/embedded/hp.obo.gz").write_bytes(gzip.compress(b"<html>not an ontology</html>\n"))
    proc = run_snakemake(project, "results/data/terms.parquet", check=False)
    log = (project / "results/logs/parse_ontology.log").read_text()
    assert proc.returncode != 0
    assert "source 'hp_obo' (resources/embedded/hp.obo.gz) fetched to resources/downloads/hp_obo:1: not an OBO file" in log
    assert not (project / "results/data/terms.parquet").exists()


@pytest.mark.workflow
def test_annotation_file_without_rows_fails_naming_its_source_and_leaves_no_output(project):
    header = gzip.decompress((project / "resources/embedded/phenotype.hpoa.gz").read_bytes()).decode().splitlines(keepends=True)
    (project / "resources/embedded/phenotype.hpoa.gz").write_bytes(gzip.compress("".join(header[:5]).encode()))
    proc = run_snakemake(project, "results/data/annotations.parquet", check=False)
    log = (project / "results/logs/annotation_counts.log").read_text()
    assert proc.returncode != 0
    assert (
        "source 'hpo_annotations' (resources/embedded/phenotype.hpoa.gz) fetched to resources/downloads/hpo_annotations: "
        "0 annotation rows counted: expected a HPOA file with annotations"
    ) in log
    assert not (project / "results/data/annotations.parquet").exists()
    assert not (project / "results/data/annotations_report.json").exists()


@pytest.mark.workflow
def test_yaml_error_in_a_configfile_is_named_with_its_line_under_verbose(project):
    (project / "mine.yaml").write_text("seed: 1\nsources:\n  hp_obo:\n    path: [unclosed\n  go_obo: x\n")
    proc = run_snakemake(project, "-n", "--configfile", "mine.yaml", check=False)
    assert proc.returncode != 0 and "Config file is not valid JSON or YAML" in proc.stderr + proc.stdout
    proc = run_snakemake(project, "-n", "--configfile", "mine.yaml", "--verbose", check=False)
    assert proc.returncode != 0 and 'in "mine.yaml", line 4, column 11' in proc.stderr + proc.stdout
