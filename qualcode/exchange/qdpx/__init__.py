"""REFI-QDA projects (`.qdpx`): a whole coded project exchanged with NVivo, ATLAS.ti, MAXQDA and QualCoder.

`writer` writes the standard exactly; `reader` reads what the tools really
write (see the README section "Moving a project to and from NVivo, ATLAS.ti,
MAXQDA and QualCoder"). Both agree on the names below, so that a project
exported and imported again comes back the same.
"""

from __future__ import annotations

PROJECT_NS = "urn:QDA-XML:project:1.0"

#: The variable that says what a case is; qualcode's own cases carry it, other tools' cases are recognised by their variables.
CASE_TYPE = "case type"
CASE_TYPES = ("school", "participant", "locality", "partnership")
#: The set of the codes that emerged while coding (`origin = inductive`).
INDUCTIVE_SET = "inductive codes"
#: The prefix of a set of the transcripts of one locality.
LOCALITY_SET = "locality: "

#: Variables qualcode writes, by the case (or source) they describe, with their REFI type.
VARIABLES = {
    "school": {"locality": "Text", "phase": "Text", "school_type": "Text", "ofsted": "Text", "fsm": "Float",
               "designations": "Text", "partnerships": "Text", "federation": "Boolean"},
    "participant": {"role": "Text", "informant_kind": "Text", "school": "Text", "locality": "Text"},
    "partnership": {"kind": "Text", "locality": "Text", "members": "Text", "lead": "Text"},
    "locality": {},
    "source": {"participant": "Text", "date": "Date", "kind": "Text", "interviewer": "Text"},
}
