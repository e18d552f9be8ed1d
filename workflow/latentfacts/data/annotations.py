"""Count curated annotations per term: HPO disease annotations (HPOA), GO gene products (GAF).

n_annotations: distinct objects (diseases, gene products) annotated directly to a term;
n_annotations_propagated: distinct objects annotated to the term or any is_a descendant (GO
part_of is not followed: the study ranks terms by how much curators use them, and is_a is the
hierarchy both ontologies share). A row whose qualifier contains NOT never counts.

A file that counts nothing is an error; one that leaves almost every candidate term without an
annotation (the wrong species or ontology, a stub) gives a warning in the log and in the report
the rule writes beside the counts.
"""

import logging

import networkx as nx
import pandas as pd

from latentfacts.data.fetch import InputFileError, numbered_lines
from latentfacts.data.obo import alt_id_map, is_a_graph, obsolete_terms, read_ontology

log = logging.getLogger(__name__)
GAF_COLUMNS = 17  # GAF 2.1 and 2.2
HPOA_COLUMNS = ("database_id", "qualifier", "hpo_id")


def read_gaf(path):
    """(term, object) pairs of a GAF 2.1/2.2 file; object = DB:DB_Object_ID; NOT rows skipped."""
    pairs = []
    for line_number, line in numbered_lines(path):
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
    for line_number, line in numbered_lines(path):
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
FORMAT_NAMES = {"gaf": "GAF", "hpoa": "HPOA"}


def read_annotations(path, fmt):
    """(term, object) pairs of an annotation file in format `fmt`; a file without one is an error."""
    pairs = READERS[fmt](path)
    if not pairs:
        raise InputFileError(
            path, f"0 annotation rows counted: expected a {FORMAT_NAMES[fmt]} file with annotations, found only comments, a header or NOT rows"
        )
    return pairs


def resolve_terms(pairs, graph, obsolete, remap_obsolete):
    """`pairs` with each annotated id replaced by the term it counts for, and a tally of the rows.

    An alt_id counts for its primary term; an obsolete id for the term its `replaced_by` names when
    `remap_obsolete` (else, or without one, its rows are dropped); an id the ontology does not know
    is dropped. `obsolete` is {obsolete id: replaced_by or None} (obo.obsolete_terms)."""
    primary = alt_id_map(graph)
    terms = {node for node, data in graph.nodes(data=True) if "name" in data}  # the terms the file defines
    resolved = []
    tally = {"rows": len(pairs), "rows_remapped": 0, "rows_obsolete_dropped": 0, "rows_unknown_dropped": 0}
    for term, annotated in pairs:
        term = primary.get(term, term)
        if term not in terms and term in obsolete:
            replacement = primary.get(obsolete[term], obsolete[term])
            if remap_obsolete and replacement in terms:
                tally["rows_remapped"] += 1
                term = replacement
            else:
                tally["rows_obsolete_dropped"] += 1
                continue
        elif term not in terms:
            tally["rows_unknown_dropped"] += 1
            continue
        resolved.append((term, annotated))
    tally["rows_counted"] = len(resolved)
    return resolved, tally


def annotation_counts(pairs, graph, ontology):
    """Direct and is_a-propagated distinct-object counts for every term of `graph`, from `pairs`
    whose terms are resolved (resolve_terms)."""
    hierarchy = is_a_graph(graph)
    direct = {term: set() for term in hierarchy}
    for term, annotated in pairs:
        direct[term].add(annotated)
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


def unannotated_share(counts, graph, namespace):
    """(share of candidate terms without a direct annotation, number of candidates): candidates are
    the terms of `namespace` (None: all), as build_pairs draws them."""
    default_namespace = (graph.graph.get("default-namespace") or [None])[0]
    in_namespace = {
        node for node, data in graph.nodes(data=True) if namespace is None or data.get("namespace", default_namespace) == namespace
    }
    candidates = counts[counts["id"].isin(in_namespace)]
    return float((candidates["n_annotations"] == 0).mean()) if len(candidates) else 1.0, len(candidates)


def ontology_annotations(ontology, obo, annotations, fmt, namespace, remap_obsolete, max_unannotated_percent):
    """Annotation counts of one ontology from its OBO and annotation files, and a report of what was
    counted, dropped and remapped, with a warning when more than `max_unannotated_percent` % of
    the candidate terms have no annotation. Rows to no known term at all are an error."""
    graph = read_ontology(obo)
    pairs, tally = resolve_terms(read_annotations(annotations, fmt), graph, obsolete_terms(obo), remap_obsolete)
    if tally["rows_counted"] == 0:
        raise InputFileError(annotations, f"0 annotation rows counted: none of its {tally['rows']} rows names a current term of {obo}")
    dropped = tally["rows_obsolete_dropped"] + tally["rows_unknown_dropped"]
    log.info(
        "%s: %s: %d annotation rows counted (%s); %d dropped: %d to obsolete terms%s, %d to ids not in %s; %d remapped through replaced_by",
        ontology, annotations, tally["rows_counted"], fmt, dropped, tally["rows_obsolete_dropped"],
        "" if remap_obsolete else " (remap_obsolete is off)", tally["rows_unknown_dropped"], obo, tally["rows_remapped"],
    )  # fmt: skip
    counts = annotation_counts(pairs, graph, ontology)
    share, n_candidates = unannotated_share(counts, graph, namespace)
    warning = None
    if 100 * share > max_unannotated_percent:
        warning = (
            f"{annotations}: {share:.0%} of the {n_candidates} candidate {ontology} terms have no annotation "
            f"(more than annotations.max_unannotated_percent = {max_unannotated_percent}%): the annotation-count "
            "bins are mostly ties; is it the annotation file of this ontology and species?"
        )
        log.warning(warning)
    report = {"file": str(annotations), "format": fmt, **tally, "candidate_terms": n_candidates, "unannotated_share": share, "warning": warning}
    return counts, report
