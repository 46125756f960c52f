"""The bundled sample corpus: fictional transcripts that reproduce the study's design.

Real interview transcripts are confidential, so qualcode ships a fictional
corpus (``transcripts/``) built by `generate` from the content in ``data/``:
the Annex 1 design of the study (four localities, 47 schools, 164 staff and
18 system-informant interviews), a statement bank voicing the book's themes
tied to who is speaking, an interview schedule and fictional names.

Besides the transcripts it writes the metadata (``schools.yaml``,
``partnerships.yaml``), a gold-standard coding file (``gold-codings.csv``:
the character span of every passage written for a code) and an identity key
(``identity-key.csv``) of every fictional name and form used in the text.

``generate(out, scale=1, seed=0)`` reproduces ``transcripts/`` byte for byte;
a larger `scale` multiplies schools and interviews per locality for load
tests. The library never imports typer or rich: progress is a callback.
"""

from qualcode.samplecorpus.bank import distinct_statements
from qualcode.samplecorpus.generate import Summary, generate

__all__ = ["Summary", "distinct_statements", "generate"]
