"""Annotation counts from HPOA and GAF snippets: NOT qualifiers, alt_ids, obsolete ids, propagation."""

from pathlib import Path

import pytest

from latentfacts.data.annotations import annotation_counts, read_gaf, read_hpoa
from latentfacts.data.fetch import InputFileError
from latentfacts.data.obo import read_ontology

DATA = Path(__file__).parent / "data"


def counts(reader, annotations, obo, ontology):
    table = annotation_counts(reader(DATA / annotations), read_ontology(DATA / obo), ontology)
    return {row.id: (row.n_annotations, row.n_annotations_propagated) for row in table.itertuples()}


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
    with caplog.at_level("INFO"):
        got = counts(read_gaf, "goa_mini.gaf", "go_mini.obo", "GO")
    assert got["GO:0005634"] == (2, 2)  # P00001 (twice), P00002 via alt_id; both NOT rows skipped
    assert got["GO:0043226"] == (2, 4)  # P00005 and ComplexPortal:CPX-1, plus nucleus' two
    assert got["GO:0005575"] == (0, 4)
    assert got["GO:0007049"] == (1, 1)
    assert "1 annotated ids are obsolete or unknown" in caplog.text and "GO:0000001" in caplog.text


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
