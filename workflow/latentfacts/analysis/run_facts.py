"""What a run is: its model, the data releases it read, its seeds and epochs, and the scoring rule.

They head summary.md and the report's first page, and every figure's caption line names them.
"""

import itertools
import json
from pathlib import Path

from latentfacts.data.fetch import open_text

def scoring_rule(answer):
    """The scoring rule in words, for `evaluate.answer` settings (`answer`: 'exact' or 'extract')."""
    if answer["answer"] == "exact":
        return (
            "a fact is correct when greedy decoding of the evaluation prompt gives exactly its identifier followed "
            "by the end-of-turn token (checked teacher-forced, cross-checked against generate)"
        )
    json_field = f"the JSON field {answer['json_field']} if present, else " if answer.get("json_field") else ""
    return (
        f"a fact is correct when the first identifier extracted ({json_field}the first match of the ontology's "
        f"pattern) from a greedy reply of up to {answer['max_new_tokens']} tokens equals its identifier"
    )


def model_facts(name_or_path, pretrained, model_dir):
    """{'model': words for the model, 'parameters': count or None}. A model pretrained by the workflow is
    'embedded' (its size from the pretraining statistics); any other is named as configured."""
    stats = Path(model_dir, "pretrain_stats.json") if model_dir else None
    if pretrained and stats and stats.is_file():
        parameters = json.loads(stats.read_text())["parameters"]
        return {"model": f"embedded Llama pretrained by the workflow, {parameters:,} parameters", "parameters": parameters}
    return {"model": str(name_or_path), "parameters": None}


def read_run(path):
    """A run.json written by the run_facts rule."""
    return json.loads(Path(path).read_text())


# Release lines in the header of an annotation file: GAF (`!Generated: 2019-01-14 09:47`,
# `!date-generated:`) and HPOA (`#version: 2025-01-16`, `#date:`).
HEADER_RELEASES = ("!Generated:", "!date-generated:", "#version:", "#date:")


def header_release(path):
    """The release date in an annotation file's first header lines, or None."""
    with open_text(path) as stream:
        for line in itertools.islice(stream, 50):
            if line.startswith(HEADER_RELEASES):
                return line.split(":", 1)[1].strip()
    return None


def data_release(source, provenance, data_path=None):
    """One input's release: its data-version line (OBO files), its header's release date (annotation
    files), else its Last-Modified date or sha256."""
    header = header_release(data_path) if data_path and not provenance.get("data_version") else None
    version = provenance.get("data_version") or header or provenance.get("last_modified")
    return {
        "source": source,
        "file": provenance["source"],
        "release": version or f"sha256 {provenance['sha256'][:12]}",
        "sha256": provenance["sha256"],
    }


def data_warnings(annotations_report):
    """The annotation counting's warnings (e.g. most candidate terms without an annotation), one per
    ontology that has one."""
    return [f"{ontology}: {entry['warning']}" for ontology, entry in sorted(annotations_report.items()) if entry["warning"]]


def run_facts(name_or_path, pretrained, model_dir, sources, seeds, epochs, annotations_report, answer):
    """The run's facts as one dict; `sources` maps each source to (its provenance JSON, its data file),
    `annotations_report` is the annotation_counts rule's report, `answer` the scoring settings."""
    releases = [
        data_release(source, json.loads(Path(provenance).read_text()), data)
        for source, (provenance, data) in sources.items()
    ]
    return {
        **model_facts(name_or_path, pretrained, model_dir),
        "releases": releases,
        "seeds": list(seeds),
        "epochs": epochs,
        "scoring": scoring_rule(answer),
        "data_warnings": data_warnings(annotations_report),
    }


def markdown_header(run):
    """The Markdown lines that open summary.md: model, data releases, seeds, epochs, scoring rule."""
    releases = "; ".join(f"{r['source']} {r['release']} ({r['file']})" for r in run["releases"])
    return [
        f"- **Model:** {run['model']}",
        f"- **Data releases:** {releases}",
        f"- **Seeds:** {', '.join(map(str, run['seeds']))} ({len(run['seeds'])} fine-tuning replicate(s)); "
        f"**epochs:** {run['epochs']}",
        f"- **Scoring:** {run['scoring']}.",
        f"- **Data warnings:** {'; '.join(run['data_warnings']) or 'none'}",
    ]


HOW_TO_READ = [
    "**Recall** is the fraction of facts correct under the scoring rule, with (correct/total) beside it.",
    "**Hazard ratio (HR)**: how much sooner the event comes per unit of a covariate (or for the named group); "
    "HR > 1 sooner, HR < 1 later; the 95% CI excludes 1 when the difference is unlikely to be chance.",
    "**Kaplan-Meier curves** show the fraction of facts still without the event at each epoch; curves stop where "
    "too few facts remain at risk, and bands are 95% confidence intervals.",
    "**Acquisition rate** is the share of still-unlearned facts first correct at an epoch; **convergence** is "
    "the first epoch at which a class reaches the configured fraction of its final acquisition.",
    "**n** counts facts at risk as seed x fact rows: with several seeds, each fact counts once per seed.",
]


def with_run_header(summary_markdown, run, figures):
    """summary.md with the run's facts after its title, and at its end each figure with its n and
    how to read it (`figures`: name -> {'title', 'n', 'read'})."""
    title, _, body = summary_markdown.partition("\n")
    listed = [f"- `{name}.png` ({f['title']}): {f['n']} {f['read']}" for name, f in figures.items()]
    return "\n".join(
        [title, "", *markdown_header(run), "", body.strip("\n"), "", "## How to read", "",
         *(f"- {line}" for line in HOW_TO_READ), "", "## Figures", "", *listed, ""]
    )  # fmt: skip
