"""Count curated annotations per term: HPO disease annotations (HPOA), GO gene products (GAF).

n_annotations: distinct objects (diseases, gene products) annotated directly to a term;
n_annotations_propagated: distinct objects annotated to the term or any is_a descendant (GO
part_of is not followed: the study ranks terms by how much curators use them, and is_a is the
hierarchy both ontologies share). A row whose qualifier contains NOT never counts.
"""

import logging

import networkx as nx
import pandas as pd

from latentfacts.data.fetch import InputFileError, open_text
from latentfacts.data.obo import alt_id_map, is_a_graph

log = logging.getLogger(__name__)
GAF_COLUMNS = 17  # GAF 2.1 and 2.2
HPOA_COLUMNS = ("database_id", "qualifier", "hpo_id")


def read_gaf(path):
    """(term, object) pairs of a GAF 2.1/2.2 file; object = DB:DB_Object_ID; NOT rows skipped."""
    pairs = []
    with open_text(path) as stream:
        for line_number, line in enumerate(stream, 1):
            if line.startswith("!") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if len(fields) != GAF_COLUMNS:
                raise InputFileError(path, f"expected {GAF_COLUMNS} tab-separated GAF columns, found {len(fields)}", line_number)
            if "NOT" not in fields[3].split("|"):
                pairs.append((fields[4], f"{fields[0]}:{fields[1]}"))
    return pairs


def read_hpoa(path):
    """(term, disease) pairs of an HPO phenotype.hpoa file; NOT rows skipped."""
    pairs, columns = [], None
    with open_text(path) as stream:
        for line_number, line in enumerate(stream, 1):
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if columns is None:  # the header row names the columns
                missing = [name for name in HPOA_COLUMNS if name not in fields]
                if missing:
                    raise InputFileError(path, f"HPOA header row lacks columns {missing}: {fields[:6]}", line_number)
                columns = {name: fields.index(name) for name in HPOA_COLUMNS}
                width = len(fields)
                continue
            if len(fields) != width:
                raise InputFileError(path, f"expected {width} tab-separated HPOA columns, found {len(fields)}", line_number)
            if fields[columns["qualifier"]] != "NOT":
                pairs.append((fields[columns["hpo_id"]], fields[columns["database_id"]]))
    if columns is None:
        raise InputFileError(path, "no HPOA header row (database_id, qualifier, hpo_id, ...) found")
    return pairs


READERS = {"gaf": read_gaf, "hpoa": read_hpoa}


def annotation_counts(pairs, graph, ontology):
    """Direct and is_a-propagated distinct-object counts for every term of `graph`.

    Annotations to an alt_id count for its primary term; to an obsolete or unknown id they are
    dropped (and logged)."""
    hierarchy = is_a_graph(graph)
    primary = alt_id_map(graph)
    direct = {term: set() for term in hierarchy}
    dropped = set()
    for term, annotated in pairs:
        term = primary.get(term, term)
        if term in direct:
            direct[term].add(annotated)
        else:
            dropped.add(term)
    if dropped:
        log.info("%s: %d annotated ids are obsolete or unknown, their rows dropped (e.g. %s)", ontology, len(dropped), sorted(dropped)[:5])
    propagated = {term: set(objects) for term, objects in direct.items()}
    for term, objects in direct.items():
        if objects:
            for ancestor in nx.descendants(hierarchy, term):  # edges point child -> parent
                propagated[ancestor] |= objects
    rows = [
        {"ontology": ontology, "id": term, "n_annotations": len(direct[term]), "n_annotations_propagated": len(propagated[term])}
        for term in sorted(direct)
    ]
    return pd.DataFrame(rows).astype({"n_annotations": "int64", "n_annotations_propagated": "int64"})
