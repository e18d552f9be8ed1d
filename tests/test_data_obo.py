"""OBO parsing: terms table (obsolete, alt_ids, several parents, unicode) and malformed files."""

import gzip
from pathlib import Path

import pytest

from latentfacts.data.fetch import InputFileError
from latentfacts.data.obo import alt_id_map, read_ontology, terms_table

DATA = Path(__file__).parent / "data"


def hpo_terms():
    return terms_table(read_ontology(DATA / "hpo_mini.obo"), "HPO").set_index("id")


def test_terms_exclude_obsolete_and_alt_ids():
    terms = hpo_terms()
    assert "HP:0001252" not in terms.index  # obsolete
    assert "HP:0001251" not in terms.index  # alt_id of HP:0001250
    assert len(terms) == 8
    assert list(terms.columns) == ["ontology", "label", "namespace", "depth", "n_parents", "n_synonyms"]


def test_depth_is_shortest_is_a_path_and_parents_counted():
    terms = hpo_terms()
    assert terms.loc["HP:0000001", "depth"] == 0
    assert terms.loc["HP:0001250", "depth"] == 2
    assert terms.loc["HP:0007359", "depth"] == 3
    # two parents: Focal-onset seizure (depth 3) and Phenotypic abnormality (depth 1)
    assert terms.loc["HP:0011097", ["depth", "n_parents"]].tolist() == [2, 2]
    assert terms.loc["HP:0001250", "n_synonyms"] == 2
    assert terms.loc["HP:0000957", "label"] == "Café-au-lait spot"
    assert set(terms["namespace"]) == {"human_phenotype"}


def test_go_namespaces_and_relationship_targets_are_not_terms():
    graph = read_ontology(DATA / "go_mini.obo")
    terms = terms_table(graph, "GO").set_index("id")
    assert "GO:0005622" not in terms.index  # part_of target outside the file
    assert "GO:0000001" not in terms.index
    assert terms.loc["GO:0005634", ["namespace", "depth", "n_parents"]].tolist() == ["cellular_component", 3, 1]
    assert terms.loc["GO:0007049", "namespace"] == "biological_process"
    assert alt_id_map(graph) == {"GO:0090001": "GO:0005634"}


def test_gzipped_obo_reads_the_same(tmp_path):
    packed = tmp_path / "hp.obo"  # gzip recognised by its bytes, not its name
    packed.write_bytes(gzip.compress((DATA / "hpo_mini.obo").read_bytes()))
    assert terms_table(read_ontology(packed), "HPO").equals(terms_table(read_ontology(DATA / "hpo_mini.obo"), "HPO"))


def test_not_obo_names_file_and_line(tmp_path):
    bad = tmp_path / "table.obo"
    bad.write_text("id\tname\nHP:1\tx\n")
    with pytest.raises(InputFileError, match=r"table\.obo:1: not an OBO file"):
        read_ontology(bad)


def test_truncated_stanza_names_line(tmp_path):
    text = (DATA / "hpo_mini.obo").read_text()
    cut = text[: text.index("name: Epileptic spasm")]  # the [Term] of HP:0011097 loses its name
    bad = tmp_path / "cut.obo"
    bad.write_text(cut)
    line = cut.count("\n") - 1  # the line of that [Term]
    with pytest.raises(InputFileError, match=rf"cut\.obo:{line}: \[Term\] stanza without 'name:'"):
        read_ontology(bad)


def test_file_cut_mid_line_is_reported(tmp_path):
    bad = tmp_path / "mid.obo"
    bad.write_text((DATA / "hpo_mini.obo").read_text()[:-20])
    with pytest.raises(InputFileError, match=r"mid\.obo:\d+: last line is incomplete"):
        read_ontology(bad)


def test_truncated_gzip_is_reported(tmp_path):
    packed = gzip.compress((DATA / "hpo_mini.obo").read_bytes())
    bad = tmp_path / "hp.obo.gz"
    bad.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputFileError, match=r"hp\.obo\.gz: unreadable after line \d+ .*truncated"):
        read_ontology(bad)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(InputFileError, match="nowhere.obo: file not found"):
        read_ontology(tmp_path / "nowhere.obo")


@pytest.mark.parametrize("packed", [False, True], ids=["plain", "gzip"])
def test_byte_order_mark_is_accepted(tmp_path, packed):
    text = "\ufeff" + (DATA / "hpo_mini.obo").read_text()
    path = tmp_path / "hp.obo"
    path.write_bytes(gzip.compress(text.encode()) if packed else text.encode())
    assert terms_table(read_ontology(path), "HPO").equals(hpo_terms().reset_index()[terms_table(read_ontology(DATA / "hpo_mini.obo"), "HPO").columns])


def test_bytes_that_are_not_utf8_name_the_line(tmp_path):
    bad = tmp_path / "hp.obo"
    bad.write_bytes((DATA / "hpo_mini.obo").read_text().replace("Café", "Caf\xe9").encode("latin-1"))
    line = next(n for n, text in enumerate((DATA / "hpo_mini.obo").read_text().splitlines(), 1) if "Café" in text)
    with pytest.raises(InputFileError, match=rf"hp\.obo:{line}: not UTF-8 text"):
        read_ontology(bad)
