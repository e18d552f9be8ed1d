"""Read an OBO ontology (HPO, GO) into a graph and a table of its terms.

Obsolete terms are dropped (obonet's default), alt_ids stay attributes of their primary term, and
only is_a edges between terms defined in the file count as the hierarchy: obonet also adds
relationship targets (part_of, regulates, ...) as empty nodes when they are not in the file.
"""

from collections import deque

import networkx as nx
import obonet
import pandas as pd

from latentfacts.data.fetch import InputFileError, numbered_lines, open_text


def validate_obo(path):
    """Cheap structural checks before obonet: a `format-version:` first line, `id:` and `name:` in
    every [Term], and a complete last line. Raises InputFileError naming the file and line."""
    stanza_line, tags = None, set()

    def check_term():
        for tag in ("id", "name"):
            if stanza_line is not None and tag not in tags:
                raise InputFileError(path, f"[Term] stanza without '{tag}:' (truncated or not OBO?)", stanza_line)

    line_number, line = 0, "\n"
    for line_number, line in numbered_lines(path):
        if line_number == 1 and not line.startswith("format-version:"):
            raise InputFileError(path, f"not an OBO file: first line is {line[:60]!r}, expected 'format-version: ...'", 1)
        if line.startswith("["):
            check_term()
            stanza_line, tags = (line_number if line.strip() == "[Term]" else None), set()
        elif ":" in line:
            tags.add(line.split(":", 1)[0])
    if line_number == 0:
        raise InputFileError(path, "empty file, expected an OBO ontology")
    if not line.endswith("\n"):
        raise InputFileError(path, "last line is incomplete (file truncated?)", line_number)
    check_term()


def read_ontology(path):
    """Validate and parse an OBO file; a networkx MultiDiGraph (edges child -> parent)."""
    validate_obo(path)
    with open_text(path) as stream:
        return obonet.read_obo(stream)


OBSOLETE_TAGS = ("id:", "is_obsolete:", "replaced_by:")


def obsolete_terms(path):
    """{id: the id its `replaced_by` names, or None} for every obsolete [Term] of an OBO file (obonet
    drops obsolete terms, their replacements with them)."""
    obsolete, stanza = {}, None

    def close():
        if stanza and stanza.get("is_obsolete") == "true":
            obsolete[stanza["id"]] = stanza.get("replaced_by")

    for _, line in numbered_lines(path):
        if line.startswith("["):
            close()
            stanza = {} if line.strip() == "[Term]" else None
        elif stanza is not None and line.startswith(OBSOLETE_TAGS):
            tag, value = line.split(":", 1)
            stanza.setdefault(tag, value.split("!", 1)[0].strip())  # first value; `! comment` cut off
    close()
    return obsolete


def is_a_graph(graph):
    """The is_a hierarchy over the terms the file defines, as a DiGraph with edges child -> parent."""
    terms = [node for node, data in graph.nodes(data=True) if "name" in data]
    hierarchy = nx.DiGraph()
    hierarchy.add_nodes_from(terms)
    hierarchy.add_edges_from(
        (child, parent) for child, parent, key in graph.edges(keys=True) if key == "is_a" and "name" in graph.nodes[parent] and child in hierarchy
    )
    return hierarchy


def depths(hierarchy):
    """Shortest is_a path from each term to a root (a term without parents); roots have 0."""
    depth = {node: 0 for node in hierarchy if hierarchy.out_degree(node) == 0}
    queue = deque(depth)
    while queue:
        parent = queue.popleft()
        for child in hierarchy.predecessors(parent):
            if child not in depth:
                depth[child] = depth[parent] + 1
                queue.append(child)
    return depth


def alt_id_map(graph):
    """{alt_id: primary id} for the terms the file defines."""
    return {alt: node for node, data in graph.nodes(data=True) if "name" in data for alt in data.get("alt_id", [])}


def terms_table(graph, ontology):
    """One row per non-obsolete term: ontology, id, label, namespace, depth, n_parents, n_synonyms."""
    hierarchy = is_a_graph(graph)
    depth = depths(hierarchy)
    default_namespace = (graph.graph.get("default-namespace") or [None])[0]
    rows = [
        {
            "ontology": ontology,
            "id": node,
            "label": graph.nodes[node]["name"],
            "namespace": graph.nodes[node].get("namespace", default_namespace),
            "depth": depth.get(node, -1),  # -1: an is_a cycle never reaches a root (never seen)
            "n_parents": hierarchy.out_degree(node),
            "n_synonyms": len(graph.nodes[node].get("synonym", [])),
        }
        for node in sorted(hierarchy)
    ]
    return pd.DataFrame(rows).astype({"depth": "int64", "n_parents": "int64", "n_synonyms": "int64"})
