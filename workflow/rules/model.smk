"""model stage of the DAG (see DESIGN.md)."""
