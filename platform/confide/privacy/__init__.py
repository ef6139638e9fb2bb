"""Privacy: records of processing generated from the classification registry (more to come: instructions, gate, export, erasure)."""
