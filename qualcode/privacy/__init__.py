"""Privacy: the identity key, pseudonymising text, finding names it lacks, and pseudonymised exports."""
