//! The framework files: what they hold, that the text is the Home Office's, and that a faulty
//! file stops start-up with a message naming the file and the item.

mod support;

use prevent_assure::framework::{self, ItemKind};

fn prevent() -> framework::Framework {
    framework::load_file(&support::frameworks_dir().join("prevent-la-2018.toml"))
        .expect("prevent-la-2018 loads")
}

fn channel() -> framework::Framework {
    framework::load_file(&support::frameworks_dir().join("channel-aas-2020.toml"))
        .expect("channel-aas-2020 loads")
}

#[test]
fn the_prevent_framework_has_ten_benchmarks_of_38_questions_with_five_levels_each() {
    let fw = prevent();
    assert_eq!(fw.sections.len(), 10);
    assert_eq!(fw.item_count(), 38);
    let per_benchmark: Vec<usize> = fw.sections.iter().map(|s| s.items.len()).collect();
    assert_eq!(per_benchmark, [3, 4, 3, 2, 7, 2, 9, 3, 3, 2]);
    let kinds = |kind| fw.sections.iter().flat_map(|s| s.items_of(kind)).count();
    assert_eq!(kinds(ItemKind::Expectation), 22);
    assert_eq!(kinds(ItemKind::GoodPractice), 16);
    for section in &fw.sections {
        let scores: Vec<u8> = section.levels.iter().map(|l| l.score).collect();
        assert_eq!(scores, [1, 2, 3, 4, 5], "benchmark {}", section.number);
        assert!(
            section.guidance.is_some(),
            "benchmark {} has guidance",
            section.number
        );
    }
    let titles: Vec<&str> = fw.sections.iter().map(|s| s.title.as_str()).collect();
    assert_eq!(titles[0], "Risk Assessment");
    assert_eq!(titles[4], "Channel Panel");
}

#[test]
fn question_codes_run_from_1_1_to_10_2_in_order() {
    let fw = prevent();
    let codes: Vec<&str> = fw
        .sections
        .iter()
        .flat_map(|s| &s.items)
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(codes.first(), Some(&"1.1"));
    assert_eq!(codes.last(), Some(&"10.2"));
    assert!(codes.contains(&"7.3"));
}

#[test]
fn the_prevent_text_is_the_home_office_text() {
    let fw = prevent();
    let b1 = fw.section(1).expect("benchmark 1");
    // Seeds 002, self-assessment tool, line 1499 onwards.
    assert_eq!(
        b1.standard.as_deref(),
        Some(
            "The organisation has a local risk assessment process reviewed against the Counter Terrorism Local Profile"
        )
    );
    assert_eq!(
        b1.outcome.as_deref(),
        Some(
            "The organisation understands local risk and this informs planning and delivery locally."
        )
    );
    // Seeds 001, scoring criteria, benchmark 1 level 2.
    assert_eq!(
        b1.levels[1].descriptor,
        "Prevent risk is described in broader, cross-partner risk assessments. Prevent partnership understanding is limited and relies solely on CTLP to understand risk."
    );
    // Seeds 002 line 1573: question 10.2 and its first prompt.
    let q10_2 = &fw.section(10).expect("benchmark 10").items[1];
    assert_eq!(
        q10_2.text,
        "Does the organisation have a formal communications plan which proactively communicates the impact of Prevent to professionals and communities?"
    );
    assert_eq!(q10_2.kind, Some(ItemKind::GoodPractice));
    assert_eq!(
        q10_2.prompts[0],
        "What methods or platforms are used to communicate Prevent in the area?"
    );
    // Seeds 001: benchmark 5 level 1 descriptor.
    assert_eq!(
        fw.section(5).expect("benchmark 5").levels[0].descriptor,
        "No named chair or deputy. A panel may exist but has not met for a significant period of time."
    );
    assert!(fw.attribution.contains("Open Government Licence v3.0"));
}

#[test]
fn the_channel_statement_has_five_key_areas_and_the_rag_definitions() {
    let fw = channel();
    assert!(!fw.scored);
    let statements: Vec<usize> = fw.sections.iter().map(|s| s.items.len()).collect();
    assert_eq!(statements, [5, 5, 6, 15, 5]);
    let ratings: Vec<&str> = fw.ratings.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(ratings, ["green", "amber", "red", "na"]);
    // Seeds 003, Channel statement, definitions for compliance ratings.
    assert_eq!(
        fw.ratings[0].definition.as_deref(),
        Some("Able to give reasonable assurance that the key area is being applied.")
    );
    let sign_off: Vec<&str> = fw.sign_off.iter().map(|s| s.code.as_str()).collect();
    assert_eq!(
        sign_off,
        [
            "signed",
            "date",
            "position",
            "local_authority",
            "combined_panel"
        ]
    );
    assert!(fw.attribution.contains("Open Government Licence v3.0"));
}

fn faulty_copy(edit: impl Fn(&str) -> String) -> (tempdir::Dir, std::path::PathBuf) {
    let original = std::fs::read_to_string(support::frameworks_dir().join("prevent-la-2018.toml"))
        .expect("the framework file reads");
    let dir = tempdir::Dir::new();
    let file = dir.path().join("prevent-la-2018.toml");
    std::fs::write(&file, edit(&original)).expect("the faulty copy is written");
    (dir, file)
}

#[test]
fn a_duplicate_question_code_is_refused_naming_the_file_and_the_question() {
    let (dir, file) = faulty_copy(|text| text.replacen("code = \"1.3\"", "code = \"1.2\"", 1));
    let error = framework::load_dir(dir.path()).expect_err("a duplicate code is refused");
    let message = error.to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(
        message.contains("item 1.2: duplicate item code"),
        "{message}"
    );
}

#[test]
fn a_benchmark_with_four_levels_is_refused_naming_the_file_and_the_benchmark() {
    let (dir, file) = faulty_copy(|text| {
        // Drop benchmark 3's level 5 (its descriptor and its criteria).
        let b3 = text.find("number = 3\n").expect("benchmark 3");
        let level5 = b3
            + text[b3..]
                .find("score = 5")
                .expect("level 5 of benchmark 3");
        let start = text[..level5]
            .rfind("[[sections.levels]]")
            .expect("the level table");
        let end = start + text[start..].find("[[sections]]").expect("benchmark 4");
        format!("{}{}", &text[..start], &text[end..])
    });
    let error = framework::load_dir(dir.path()).expect_err("four levels are refused");
    let message = error.to_string();
    assert!(message.contains(&file.display().to_string()), "{message}");
    assert!(message.contains("section 3: has 4 levels"), "{message}");
}

#[test]
fn an_empty_prompt_is_refused() {
    let (dir, _file) = faulty_copy(|text| {
        text.replacen(
            "'How are risks identified (i.e. through the CTLP)?'",
            "'  '",
            1,
        )
    });
    let message = framework::load_dir(dir.path())
        .expect_err("refused")
        .to_string();
    assert!(message.contains("item 1.1: prompt 1 is empty"), "{message}");
}

/// A temporary folder removed when dropped.
mod tempdir {
    pub struct Dir(std::path::PathBuf);

    impl Dir {
        pub fn new() -> Dir {
            let path =
                std::env::temp_dir().join(format!("prevent-assure-{}", uuid::Uuid::new_v4()));
            std::fs::create_dir_all(&path).expect("a temporary folder");
            Dir(path)
        }

        pub fn path(&self) -> &std::path::Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
