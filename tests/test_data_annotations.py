"""Annotation counts from HPOA and GAF snippets: NOT qualifiers, alt_ids, obsolete ids, propagation,
and annotation files that must not pass silently (empty, unreadable, mostly unannotated)."""

import gzip
import json
from pathlib import Path

import pytest

from latentfacts.data.annotations import annotation_counts, ontology_annotations, read_gaf, read_hpoa, resolve_terms
from latentfacts.data.fetch import InputFileError, named_source
from latentfacts.data.obo import obsolete_terms, read_ontology

DATA = Path(__file__).parent / "data"
HPOA = (DATA / "hpo_mini.hpoa").read_text()


def counts(reader, annotations, obo, ontology, remap_obsolete=False):
    graph = read_ontology(DATA / obo)
    pairs, _ = resolve_terms(reader(DATA / annotations), graph, obsolete_terms(DATA / obo), remap_obsolete)
    table = annotation_counts(pairs, graph, ontology)
    return {row.id: (row.n_annotations, row.n_annotations_propagated) for row in table.itertuples()}


def hpo(annotations, remap_obsolete=False, max_unannotated_percent=100):
    return ontology_annotations("HPO", DATA / "hpo_mini.obo", annotations, "hpoa", None, remap_obsolete, max_unannotated_percent)


def test_hpoa_counts_distinct_diseases_direct_and_propagated():
    got = counts(read_hpoa, "hpo_mini.hpoa", "hpo_mini.obo", "HPO")
    assert got["HP:0001250"] == (2, 3)  # OMIM:100001 twice + OMIM:100002 via alt_id; + descendants' OMIM:100003
    assert got["HP:0002373"] == (1, 1)
    assert got["HP:0007359"] == (1, 1)  # the NOT row of OMIM:100002 never counts
    assert got["HP:0000957"] == (1, 1)  # unicode disease name
    assert got["HP:0000118"] == (0, 4)
    assert got["HP:0000001"] == (0, 4)
    assert got["HP:0011097"] == (0, 0)
    assert "HP:0001252" not in got and "HP:0001251" not in got  # obsolete and alt ids are no rows


def test_gaf_counts_distinct_gene_products(caplog):
    got = counts(read_gaf, "goa_mini.gaf", "go_mini.obo", "GO")
    assert got["GO:0005634"] == (2, 2)  # P00001 (twice), P00002 via alt_id; both NOT rows skipped
    assert got["GO:0043226"] == (2, 4)  # P00005 and ComplexPortal:CPX-1, plus nucleus' two
    assert got["GO:0005575"] == (0, 4)
    assert got["GO:0007049"] == (1, 1)
    with caplog.at_level("INFO"):
        _, report = ontology_annotations("GO", DATA / "go_mini.obo", DATA / "goa_mini.gaf", "gaf", None, False, 100)
    assert "1 dropped: 1 to obsolete terms (remap_obsolete is off), 0 to ids not in" in caplog.text
    assert (report["rows_obsolete_dropped"], report["rows_unknown_dropped"], report["rows_remapped"]) == (1, 0, 0)


def test_obsolete_terms_and_their_replacements_are_read():
    assert obsolete_terms(DATA / "hpo_mini.obo") == {"HP:0001252": "HP:0001250"}
    assert obsolete_terms(DATA / "go_mini.obo") == {"GO:0000001": None}


def test_remap_obsolete_counts_rows_for_the_replacement(caplog):
    assert counts(read_hpoa, "hpo_mini.hpoa", "hpo_mini.obo", "HPO", remap_obsolete=True)["HP:0001250"] == (3, 3)
    with caplog.at_level("INFO"):
        _, report = hpo(DATA / "hpo_mini.hpoa", remap_obsolete=True)
    assert (report["rows_remapped"], report["rows_obsolete_dropped"]) == (1, 0)
    assert "0 to obsolete terms, 0 to ids not in" in caplog.text and "1 remapped through replaced_by" in caplog.text


@pytest.mark.parametrize(
    ("content", "reader"),
    [("!gaf-version: 2.2\n", read_gaf), ("".join(HPOA.splitlines(keepends=True)[:3]), read_hpoa)],
    ids=["empty GAF", "header-only HPOA"],
)
def test_file_without_counted_rows_is_an_error(tmp_path, content, reader):
    name = "goa.gaf" if reader is read_gaf else "phenotype.hpoa"
    path = tmp_path / name
    path.write_text(content)
    fmt, obo = ("gaf", "go_mini.obo") if reader is read_gaf else ("hpoa", "hpo_mini.obo")
    with pytest.raises(InputFileError, match=rf"{name}: 0 annotation rows counted: expected a {fmt.upper()} file with annotations"):
        ontology_annotations("X", DATA / obo, path, fmt, None, False, 100)


def test_rows_that_name_no_current_term_are_an_error(tmp_path):
    lines = HPOA.splitlines(keepends=True)
    path = tmp_path / "phenotype.hpoa"
    path.write_text("".join(lines[:3]) + lines[3].replace("HP:0001250", "HP:9999999"))
    with pytest.raises(InputFileError, match=r"phenotype.hpoa: 0 annotation rows counted: none of its 1 rows names a current term"):
        hpo(path)


@pytest.mark.parametrize("reader", [read_gaf, read_hpoa])
def test_truncated_gzip_is_named(tmp_path, reader):
    name = "goa_mini.gaf" if reader is read_gaf else "hpo_mini.hpoa"
    packed = gzip.compress((DATA / name).read_bytes() * 50)
    bad = tmp_path / f"{name}.gz"
    bad.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputFileError, match=rf"{name}\.gz: unreadable after line \d+ \(EOFError.*truncated"):
        reader(bad)


def test_bytes_that_are_not_utf8_are_named(tmp_path):
    bad = tmp_path / "phenotype.hpoa"
    bad.write_bytes(HPOA.replace("Café", "Caf\xe9").encode("utf-8").replace("Disease three".encode(), "Disease \xe9".encode("latin-1")))
    with pytest.raises(InputFileError, match=r"phenotype.hpoa:9: not UTF-8 text \('utf-8' codec can't decode byte 0xe9"):
        read_hpoa(bad)


def test_mostly_unannotated_candidates_give_a_warning_and_a_report(tmp_path, caplog):
    with caplog.at_level("WARNING"):
        _, quiet = hpo(DATA / "hpo_mini.hpoa", max_unannotated_percent=90)
    assert quiet["warning"] is None and "max_unannotated_percent" not in caplog.text
    assert 0 < quiet["unannotated_share"] < 0.9 and quiet["candidate_terms"] > 0
    with caplog.at_level("WARNING"):
        _, loud = hpo(DATA / "hpo_mini.hpoa", max_unannotated_percent=10)
    assert loud["warning"].startswith(f"{DATA / 'hpo_mini.hpoa'}: {loud['unannotated_share']:.0%} of the")
    assert "annotations.max_unannotated_percent = 10%" in caplog.text
    json.dumps(loud)  # the rule writes it as JSON


def test_errors_name_the_configured_source_and_its_copy(tmp_path):
    copy = tmp_path / "hpo_annotations"
    copy.write_text("".join(HPOA.splitlines(keepends=True)[:3]))  # the header only
    spec = {"url": "https://purl.obolibrary.org/obo/hp/hpoa/phenotype.hpoa"}
    with pytest.raises(InputFileError) as raised:
        with named_source(DATA / "hpo_mini.obo", "hp_obo", {"path": "x"}), named_source(copy, "hpo_annotations", spec):
            hpo(copy)
    assert str(raised.value).startswith(f"source 'hpo_annotations' ({spec['url']}) fetched to {copy}: 0 annotation rows counted")


def test_gaf_objects_are_db_and_id():
    assert ("GO:0043226", "ComplexPortal:CPX-1") in read_gaf(DATA / "goa_mini.gaf")


@pytest.mark.parametrize(
    ("reader", "name", "line_number", "expected"),
    [(read_gaf, "goa_mini.gaf", 5, "expected 17 tab-separated GAF columns, found 16"),
     (read_hpoa, "hpo_mini.hpoa", 6, "expected 12 tab-separated HPOA columns, found 11")],
)  # fmt: skip
def test_wrong_column_count_names_file_and_line(tmp_path, reader, name, line_number, expected):
    lines = (DATA / name).read_text().splitlines(keepends=True)
    lines[line_number - 1] = lines[line_number - 1].replace("\t", "", 1)  # two columns run together
    bad = tmp_path / name
    bad.write_text("".join(lines))
    with pytest.raises(InputFileError, match=rf"{name}:{line_number}: {expected}"):
        reader(bad)


def test_hpoa_without_header_row(tmp_path):
    bad = tmp_path / "no_header.hpoa"
    bad.write_text("OMIM:1\tD\t\tHP:0001250\n")
    with pytest.raises(InputFileError, match=r"no_header\.hpoa:1: HPOA header row lacks columns"):
        read_hpoa(bad)
