"""Clusters of uncoded passages as candidate codes, through the library: real spaCy, real scikit-learn, the fixture corpus."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from qualcode import history
from qualcode.coding.blind import visible
from qualcode.coding.codebook import load_codebook_file
from qualcode.coding.manual import apply_codes
from qualcode.coding.rounds import add_coder, start_round
from qualcode.ingest.corpus import import_paths
from qualcode.suggestions.clusters import uncoded_passages
from qualcode.errors import QualcodeError
from qualcode.models import Code, Coding
from qualcode.project import Project
from qualcode.suggestions.autocode import autocode
from qualcode.suggestions.nlp import parse_sources, read_sources
from qualcode.suggestions.inductive import _coded_spans, create_candidate, suggest
from tests.conftest import REPO, table_rows

#: Two topics no code covers, each in two interviews at two schools: the swimming pool, and the leaking roof.
TOPICS = {
    "EAS-S01-T2.md": """---
id: EAS-S01-T2
role: Teacher
school: EAS-S01
date: 2015-06-15
kind: full
---
Interviewer: What takes up your week at the moment?

Teacher: The swimming lessons. We walk the children to the leisure centre pool every Tuesday and the lifeguards count them in.

Interviewer: Anything else on your mind?

Teacher: The roof. It leaks over the hall whenever it rains, the builders have put up scaffolding and buckets catch the drips.

Interviewer: How do the children find it?

Teacher: They love the pool. Half of them could not swim a width in September and now they swim lengths with the lifeguards watching.
""",
    "EAS-S02-T1.md": """---
id: EAS-S02-T1
role: Teacher
school: EAS-S02
date: 2015-07-03
kind: full
---
Interviewer: What takes up your week at the moment?

Teacher: Buckets under the roof. The gutters overflow, water leaks through the ceiling tiles and the builders keep patching the roof.

Interviewer: And outside the classroom?

Teacher: Swimming. The coach takes Year 7 to the pool, the lifeguards split them into groups and the weaker swimmers stay in the shallow end.

Interviewer: Is the building work finished?

Teacher: No, the scaffolding is still up and the roof still leaks over the science labs after heavy rain.
""",
}
#: The answers of each topic, as (transcript, lines).
SWIMMING = {("EAS-S01-T2", "3"), ("EAS-S01-T2", "11"), ("EAS-S02-T1", "7")}
ROOF = {("EAS-S01-T2", "7"), ("EAS-S02-T1", "3"), ("EAS-S02-T1", "11")}


@pytest.fixture
def topics(project, corpus):
    """The fixture corpus with the two topics, its codebook, and autocode's suggestions (which cover other turns)."""
    for name, text in TOPICS.items():
        (corpus / "eastern" / name).write_text(text, encoding="utf-8")
    import_paths(project, [corpus])
    load_codebook_file(project, REPO / "codebooks" / "hierarchy-markets-networks.yaml", "setup")
    autocode(project)
    return project


def clusters(project, **options) -> list:
    return [c for c in suggest(project, top=5, **options) if c.kind == "cluster"]


def passages(candidate) -> set[tuple[str, str]]:
    return {(example["transcript"], example["lines"]) for example in candidate.examples}


def test_two_planted_topics_come_out_as_two_clusters(topics) -> None:
    found = clusters(topics)
    planted = [c for c in found if passages(c) & (SWIMMING | ROOF)]
    assert len(planted) == 2
    swimming = next(c for c in planted if passages(c) & SWIMMING)
    roof = next(c for c in planted if passages(c) & ROOF)
    assert passages(swimming) == SWIMMING and passages(roof) == ROOF
    assert "pool" in swimming.phrase.split(" / ") and "roof" in roof.phrase.split(" / ")
    for cluster in (swimming, roof):
        assert (cluster.frequency, cluster.transcripts, cluster.schools) == (3, 2, 2)
        assert cluster.examples[0]["transcript"] != cluster.examples[1]["transcript"]  # the examples spread first
    texts = " ".join(e["text"] for e in swimming.examples)
    assert "lifeguards" in texts and "roof" not in texts
    assert clusters(topics) == found  # the same data, the same clusters


def test_uncoded_passages_are_the_turns_no_coding_overlaps(topics) -> None:
    with topics.session() as session:
        sources = read_sources(session)
        coded = _coded_spans(session, visible(topics))
    uncoded = uncoded_passages(list(parse_sources(topics, sources)), coded)
    assert {(p.transcript, p.lines) for p in uncoded} >= SWIMMING | ROOF
    assert sum(map(len, coded.values())) > 5  # autocode covered other turns...
    for passage in uncoded:  # ...and those are not among the uncoded
        assert not any(start < passage.end and passage.start < end for start, end in coded.get(passage.transcript, []))
        assert len(passage.terms) >= 3 and passage.text.strip()


def test_a_coded_passage_leaves_the_clusters(topics) -> None:
    apply_codes(topics, "EAS-S02-T1", ["in-vivo/swimming"], "ann", lines="7", new=True)
    found = clusters(topics)
    assert not any(passages(c) & SWIMMING for c in found)  # two swimming passages are too few for a candidate
    assert any(passages(c) == ROOF for c in found)


def test_in_a_blind_round_a_coders_clusters_leave_out_only_the_codings_they_may_see(topics) -> None:
    apply_codes(topics, "EAS-S02-T1", ["in-vivo/swimming"], "ann", lines="7", new=True)
    add_coder(topics, "bea", None, "lead")
    start_round(topics, "r1", ["ann", "bea"], "lead", transcripts=["EAS-S01-T2", "EAS-S02-T1"])
    seen = {}
    for viewer in ("bea", "ann"):  # the lead, outside the round, sees what everyone sees in the test above
        project = Project.open(topics.root)
        project.viewer, heard = viewer, []
        project.on_blind = heard.append
        seen[viewer] = (any(passages(c) == SWIMMING for c in clusters(project)), heard)
        project.close()
    assert seen["bea"][0] and len(seen["bea"][1]) == 1 and "you (bea)" in seen["bea"][1][0]  # ann's coding hidden
    assert not seen["ann"][0]  # her own coding takes a swimming passage out, as for anyone outside the round


def test_clusters_can_be_fixed_in_number_or_left_out(topics) -> None:
    assert len(clusters(topics, clusters=2)) <= 2
    assert clusters(topics, clusters=0) == []
    assert not [c for c in suggest(topics, by="locality", top=5) if c.kind == "cluster"]


def test_create_turns_a_cluster_into_a_code_suggested_on_its_passages(topics) -> None:
    roof = next(c for c in clusters(topics) if passages(c) == ROOF)
    before = table_rows(topics)
    created = create_candidate(topics, roof.phrase, "school-life/building/roof", "ann")
    assert created.code == "school-life/building/roof" and created.suggestions == 3
    with topics.session() as session:
        code = session.scalar(select(Code).where(Code.name == "roof"))
        assert (code.origin, code.created_by, code.patterns) == ("inductive", "ann", None)
        assert "roof" in code.definition and code.source_transcript_id in {"EAS-S01-T2", "EAS-S02-T1"}
        coded = session.scalars(select(Coding).where(Coding.code_id == code.id)).all()
        assert {(c.origin, c.coder) for c in coded} == {("suggested", "autocode")}
        assert all(0.5 < c.score <= 1 and "roof" in c.quote for c in coded)
    assert not any(passages(c) & ROOF for c in clusters(topics))  # coded now
    with topics.session() as session:
        history.undo(session, "ann")
    after = table_rows(topics)
    assert after["codings"] == before["codings"] and after["codes"] == before["codes"]


def test_create_with_a_label_no_cluster_has_is_a_phrase(topics) -> None:
    with pytest.raises(QualcodeError, match="'pool / nothing' is not said"):
        create_candidate(topics, "pool / nothing", "school-life/pool", "ann")
