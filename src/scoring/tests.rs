//! One test per rule, on the real Prevent framework.

use std::collections::BTreeMap;

use super::*;
use crate::framework::{self, Framework};

fn prevent() -> Framework {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frameworks/prevent-la-2018.toml");
    framework::load_file(&file).expect("the Prevent framework loads")
}

/// Every criterion of benchmark `n` at levels 2 to `up_to`.
fn criteria_up_to(fw: &Framework, n: u32, up_to: u8) -> Vec<String> {
    fw.section(n)
        .expect("benchmark")
        .levels
        .iter()
        .filter(|l| l.score <= up_to)
        .flat_map(|l| l.criteria.iter().map(|c| c.id.clone()))
        .collect()
}

fn all_achieving(fw: &Framework, n: u32) -> BTreeMap<String, Status> {
    fw.section(n)
        .expect("benchmark")
        .items
        .iter()
        .map(|i| (i.code.clone(), Status::Achieving))
        .collect()
}

fn record(met: &[String], statuses: BTreeMap<String, Status>) -> Record {
    Record {
        criteria_met: met.iter().cloned().collect(),
        statuses,
        not_scored: false,
    }
}

fn score(s: &Suggestion) -> Option<u8> {
    s.score.map(Score::get)
}

#[test]
fn the_suggestion_is_the_highest_level_whose_criteria_and_those_below_are_all_met() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");
    for level in 2..=5 {
        let met = criteria_up_to(&fw, 3, level);
        let s = suggest(
            b3,
            &record(&met, all_achieving(&fw, 3)),
            &RagMapping::default(),
        );
        assert_eq!(score(&s), Some(level));
    }
}

#[test]
fn the_suggestion_is_1_when_level_2_is_not_met() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");
    // Every criterion of levels 3 to 5, but one of level 2 missing.
    let met: Vec<String> = criteria_up_to(&fw, 3, 5)
        .into_iter()
        .filter(|id| id != "b3.l2.agency-owner")
        .collect();

    let s = suggest(
        b3,
        &record(&met, all_achieving(&fw, 3)),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(1));
    assert_eq!(s.band, Some(Band::NotMeeting));
    assert_eq!(
        s.blocking.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b3.l2.agency-owner"]
    );
    assert!(
        s.explanation
            .starts_with("Level 1: not every criterion of level 2 is met yet."),
        "{}",
        s.explanation
    );
}

#[test]
fn levels_are_cumulative_so_a_gap_lower_down_stops_the_climb() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");
    // Levels 2, 4 and 5 complete, but not level 3.
    let met: Vec<String> = criteria_up_to(&fw, 3, 5)
        .into_iter()
        .filter(|id| id != "b3.l3.actions-reviewed")
        .collect();

    let s = suggest(
        b3,
        &record(&met, all_achieving(&fw, 3)),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(2));
    assert_eq!(
        s.blocking.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b3.l3.actions-reviewed"]
    );
}

#[test]
fn an_expectation_question_not_started_caps_the_suggestion_at_2() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");
    let mut statuses = all_achieving(&fw, 3);
    statuses.insert("3.3".into(), Status::NotStarted);

    let s = suggest(
        b3,
        &record(&criteria_up_to(&fw, 3, 5), statuses),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(2));
    assert_eq!(s.criteria_level.get(), 5);
    assert!(s.capped());
    assert_eq!(s.not_started_expectations, ["3.3"]);
    assert_eq!(
        s.explanation,
        "Level 2: the criteria met would support level 5, but expectation question 3.3 is not yet \
         started, so the statutory minimum is not met and the suggestion stops at level 2. Start \
         work on question 3.3 to go above level 2."
    );
}

#[test]
fn a_question_with_no_status_counts_as_not_started() {
    let fw = prevent();
    let b1 = fw.section(1).expect("benchmark 1");
    let mut statuses = all_achieving(&fw, 1);
    statuses.remove("1.1");

    let s = suggest(
        b1,
        &record(&criteria_up_to(&fw, 1, 4), statuses),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(2));
    assert_eq!(s.not_started_expectations, ["1.1"]);
}

#[test]
fn a_good_practice_question_not_started_does_not_cap() {
    let fw = prevent();
    let b1 = fw.section(1).expect("benchmark 1");
    let mut statuses = all_achieving(&fw, 1);
    statuses.insert("1.2".into(), Status::NotStarted);
    statuses.insert("1.1".into(), Status::Developing);

    let s = suggest(
        b1,
        &record(&criteria_up_to(&fw, 1, 4), statuses),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(4));
    assert!(!s.capped());
}

#[test]
fn a_benchmark_not_scored_has_no_score_band_or_rag() {
    let fw = prevent();
    let b5 = fw.section(5).expect("benchmark 5");
    let mut r = record(&criteria_up_to(&fw, 5, 4), all_achieving(&fw, 5));
    r.not_scored = true;

    let s = suggest(b5, &r, &RagMapping::default());

    assert_eq!((s.score, s.band, s.rag), (None, None, None));
    assert!(s.blocking.is_empty());
    assert!(s.explanation.starts_with("Not scored"));
}

#[test]
fn bands_are_1_2_not_meeting_3_meeting_4_5_exceeding() {
    let bands: Vec<Band> = (1..=5).filter_map(Score::new).map(Band::of).collect();
    assert_eq!(
        bands,
        [
            Band::NotMeeting,
            Band::NotMeeting,
            Band::Meeting,
            Band::Exceeding,
            Band::Exceeding
        ]
    );
}

#[test]
fn rag_is_red_amber_green_by_default_and_configurable() {
    let default = RagMapping::default();
    assert_eq!(default.rag(Band::NotMeeting), Rag::Red);
    assert_eq!(default.rag(Band::Meeting), Rag::Amber);
    assert_eq!(default.rag(Band::Exceeding), Rag::Green);

    let custom: RagMapping = "meeting=green".parse().expect("a mapping");
    assert_eq!(custom.rag(Band::Meeting), Rag::Green);
    assert_eq!(custom.rag(Band::NotMeeting), Rag::Red);
    assert_eq!(
        custom.to_string(),
        "not_meeting=red,meeting=green,exceeding=green"
    );

    assert!("meeting=blue".parse::<RagMapping>().is_err());
    assert!("middling=amber".parse::<RagMapping>().is_err());
    assert!("meeting".parse::<RagMapping>().is_err());
}

#[test]
fn the_suggestion_takes_its_rag_from_the_mapping() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");
    let rags: RagMapping = "meeting=green".parse().expect("a mapping");

    let s = suggest(
        b3,
        &record(&criteria_up_to(&fw, 3, 3), all_achieving(&fw, 3)),
        &rags,
    );

    assert_eq!((score(&s), s.rag), (Some(3), Some(Rag::Green)));
}

#[test]
fn a_proposal_that_differs_from_the_suggestion_needs_a_justification() {
    let three = Score::new(3);
    assert!(!justification_required(three, three));
    assert!(justification_required(three, Score::new(4)));
    assert!(justification_required(three, None));
    assert!(justification_required(None, three));
    assert!(!justification_required(None, None));
}

#[test]
fn the_explanation_names_what_holds_the_suggestion_back_from_the_next_level() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");
    let met: Vec<String> = criteria_up_to(&fw, 3, 4)
        .into_iter()
        .filter(|id| id != "b3.l4.timeframes" && id != "b3.l4.owners")
        .collect();

    let s = suggest(
        b3,
        &record(&met, all_achieving(&fw, 3)),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(3));
    assert_eq!(
        s.blocking.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
        ["b3.l4.timeframes", "b3.l4.owners"]
    );
    assert_eq!(
        s.explanation,
        "Level 3: every criterion of levels 2 and 3 is met. To reach level 4, the evidence must also \
         show: “Actions have ambitious timeframes”; “Actions are owned by a broad range of partners”."
    );
}

#[test]
fn level_5_has_nothing_blocking() {
    let fw = prevent();
    let b3 = fw.section(3).expect("benchmark 3");

    let s = suggest(
        b3,
        &record(&criteria_up_to(&fw, 3, 5), all_achieving(&fw, 3)),
        &RagMapping::default(),
    );

    assert_eq!(score(&s), Some(5));
    assert!(s.blocking.is_empty());
    assert_eq!(
        s.explanation,
        "Level 5: every criterion of levels 2 to 5 is met."
    );
}

#[test]
fn the_summary_matches_the_home_office_letter() {
    let bands = [
        Band::Exceeding,
        Band::Exceeding,
        Band::Exceeding,
        Band::Exceeding,
        Band::Exceeding,
        Band::Exceeding,
        Band::Meeting,
        Band::Meeting,
        Band::Meeting,
    ];
    assert_eq!(
        summary("Dorset Council", &bands),
        "Overall, Dorset Council is exceeding the requirements of the Prevent Duty in most areas \
         and meeting them in some."
    );
}

#[test]
fn the_summary_reads_well_for_ties_single_bands_and_the_duty_not_met() {
    use Band::{Exceeding as E, Meeting as M, NotMeeting as N};
    let cases: [(&[Band], &str); 8] = [
        (
            &[E, E, M, M],
            "is exceeding the requirements of the Prevent Duty in half of the areas and meeting them in the other half.",
        ),
        (
            &[M, M, M],
            "is meeting the requirements of the Prevent Duty in all areas.",
        ),
        (
            &[N, N],
            "is not meeting the requirements of the Prevent Duty in any of the areas scored.",
        ),
        (
            &[E],
            "is exceeding the requirements of the Prevent Duty in the one area scored.",
        ),
        (
            &[N, N, N, M, E],
            "is not meeting the requirements of the Prevent Duty in most areas, exceeding them in one and meeting them in one.",
        ),
        (
            &[E, E, E, E, M, M, M, M, N, N],
            "is exceeding the requirements of the Prevent Duty in four areas, meeting them in four and not meeting them in two.",
        ),
        (
            &[E, E, E, E, E, M, M, M, N, N],
            "is exceeding the requirements of the Prevent Duty in half of the areas, meeting them in three and not meeting them in two.",
        ),
        (
            &[E, M, N],
            "is exceeding the requirements of the Prevent Duty in one area, meeting them in one and not meeting them in one.",
        ),
    ];
    for (bands, expected) in cases {
        assert_eq!(
            summary("Ashbridge Borough Council", bands),
            format!("Overall, Ashbridge Borough Council {expected}")
        );
    }
    assert_eq!(
        summary("Ashbridge Borough Council", &[]),
        "No benchmark of Ashbridge Borough Council has been scored, so there is no overall summary."
    );
}
