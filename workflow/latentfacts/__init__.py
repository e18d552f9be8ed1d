"""latentfacts: how a language model acquires, generalizes and forgets ontology facts."""

__version__ = "0.1.0"
