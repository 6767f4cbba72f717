//! Properties of the scoring rules over random records on the real Prevent framework.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use prevent_assure::domain::Status;
use prevent_assure::framework::{self, Framework, ItemKind, Section};
use prevent_assure::scoring::{Band, RagMapping, Record, suggest, summary};
use proptest::prelude::*;

static PREVENT: LazyLock<Framework> = LazyLock::new(|| {
    let file =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frameworks/prevent-la-2018.toml");
    framework::load_file(&file).expect("the Prevent framework loads")
});

fn section(n: u32) -> &'static Section {
    PREVENT.section(n).expect("a benchmark")
}

/// (criterion id, level) of every criterion of a benchmark.
fn criteria(section: &Section) -> Vec<(String, u8)> {
    section
        .levels
        .iter()
        .flat_map(|l| l.criteria.iter().map(move |c| (c.id.clone(), l.score)))
        .collect()
}

fn status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::NotStarted),
        Just(Status::Developing),
        Just(Status::Achieving)
    ]
}

/// A benchmark, two nested sets of its criteria (smaller ⊆ larger), and statuses for its questions.
fn case() -> impl Strategy<
    Value = (
        u32,
        BTreeSet<String>,
        BTreeSet<String>,
        BTreeMap<String, Status>,
    ),
> {
    (1u32..=10).prop_flat_map(|n| {
        let s = section(n);
        let ids: Vec<String> = criteria(s).into_iter().map(|(id, _)| id).collect();
        let count = ids.len();
        let codes: Vec<String> = s.items.iter().map(|i| i.code.clone()).collect();
        (
            Just(n),
            proptest::collection::vec(0u8..3, count),
            proptest::collection::vec(status(), codes.len()),
        )
            .prop_map(move |(n, picks, statuses)| {
                // 0: in neither set; 1: only in the larger; 2: in both.
                let larger = ids
                    .iter()
                    .zip(&picks)
                    .filter(|(_, p)| **p >= 1)
                    .map(|(id, _)| id.clone())
                    .collect();
                let smaller = ids
                    .iter()
                    .zip(&picks)
                    .filter(|(_, p)| **p == 2)
                    .map(|(id, _)| id.clone())
                    .collect();
                let statuses = codes.iter().cloned().zip(statuses).collect();
                (n, smaller, larger, statuses)
            })
    })
}

fn record(met: &BTreeSet<String>, statuses: &BTreeMap<String, Status>) -> Record {
    Record {
        criteria_met: met.clone(),
        statuses: statuses.clone(),
        not_scored: false,
    }
}

fn band() -> impl Strategy<Value = Band> {
    prop_oneof![
        Just(Band::NotMeeting),
        Just(Band::Meeting),
        Just(Band::Exceeding)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn meeting_more_criteria_never_lowers_the_suggestion((n, smaller, larger, statuses) in case()) {
        let rags = RagMapping::default();
        let low = suggest(section(n), &record(&smaller, &statuses), &rags);
        let high = suggest(section(n), &record(&larger, &statuses), &rags);
        prop_assert!(low.score <= high.score, "{:?} > {:?}", low.score, high.score);
    }

    #[test]
    fn the_cap_always_holds((n, _, met, statuses) in case()) {
        let s = suggest(section(n), &record(&met, &statuses), &RagMapping::default());
        let any_not_started = section(n)
            .items_of(ItemKind::Expectation)
            .any(|i| statuses.get(&i.code) == Some(&Status::NotStarted));
        if any_not_started {
            prop_assert!(s.score.is_some_and(|score| score.get() <= 2), "{:?}", s.score);
        }
    }

    #[test]
    fn the_suggestion_never_reaches_a_level_with_an_unmet_criterion_at_or_below_it(
        (n, _, met, statuses) in case()
    ) {
        let s = suggest(section(n), &record(&met, &statuses), &RagMapping::default());
        let level = s.score.map_or(0, |score| score.get());
        for (id, criterion_level) in criteria(section(n)) {
            if criterion_level <= level {
                prop_assert!(met.contains(&id), "level {level} reached without {id}");
            }
        }
    }

    #[test]
    fn below_level_5_something_always_holds_the_suggestion_back((n, _, met, statuses) in case()) {
        let s = suggest(section(n), &record(&met, &statuses), &RagMapping::default());
        let score = s.score.expect("scored");
        if score.get() < 5 {
            prop_assert!(!s.blocking.is_empty() || !s.not_started_expectations.is_empty());
            for b in &s.blocking {
                prop_assert!(!met.contains(&b.id));
                prop_assert!(b.level <= score.get() + 1);
            }
        } else {
            prop_assert!(s.blocking.is_empty());
        }
        prop_assert!(!s.explanation.is_empty());
    }

    #[test]
    fn a_benchmark_not_scored_never_has_a_score((n, _, met, statuses) in case()) {
        let mut r = record(&met, &statuses);
        r.not_scored = true;
        let s = suggest(section(n), &r, &RagMapping::default());
        prop_assert_eq!((s.score, s.band, s.rag), (None, None, None));
    }

    #[test]
    fn every_combination_of_bands_yields_a_sentence(bands in proptest::collection::vec(band(), 1..=10)) {
        let sentence = summary("Calderbrook City Council", &bands);
        prop_assert!(sentence.starts_with("Overall, Calderbrook City Council is "), "{}", sentence);
        prop_assert!(sentence.ends_with('.'));
        prop_assert!(!sentence.contains("  ") && !sentence.contains(" ,") && !sentence.contains(" ."));
        prop_assert_eq!(sentence.matches("the requirements of the Prevent Duty").count(), 1);
        for (b, words) in [
            (Band::Exceeding, "exceeding"),
            (Band::Meeting, " meeting"),
            (Band::NotMeeting, "not meeting"),
        ] {
            // Each band present is said; none absent is.
            let present = bands.contains(&b);
            let said = if b == Band::Meeting {
                sentence.replace("not meeting", "").contains(words)
            } else {
                sentence.contains(words)
            };
            prop_assert_eq!(present, said, "{:?} in {}", b, sentence);
        }
    }
}

#[test]
fn every_count_of_bands_up_to_ten_yields_a_sentence() {
    for e in 0..=10usize {
        for m in 0..=(10 - e) {
            for n in 0..=(10 - e - m) {
                if e + m + n == 0 {
                    continue;
                }
                let mut bands = vec![Band::Exceeding; e];
                bands.extend(vec![Band::Meeting; m]);
                bands.extend(vec![Band::NotMeeting; n]);
                let sentence = summary("Dunmere County Council", &bands);
                assert!(
                    sentence.starts_with("Overall, Dunmere County Council is "),
                    "{sentence}"
                );
                assert!(sentence.ends_with('.'), "{sentence}");
                assert_eq!(sentence.contains("exceeding"), e > 0, "{sentence}");
                assert_eq!(sentence.contains("not meeting"), n > 0, "{sentence}");
            }
        }
    }
}
