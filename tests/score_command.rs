//! `prevent-assure score`: JSON in, suggestions out; bad input refused by name with exit code 2.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn score(input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prevent-assure"))
        .arg("score")
        .env_remove("RAG_MAPPING")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    child.wait_with_output().expect("the command finishes")
}

fn ok(input: Value) -> Value {
    let output = score(&input.to_string());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on standard output")
}

fn refused(input: &str) -> String {
    let output = score(input);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const B3_TO_LEVEL_4: [&str; 11] = [
    "b3.l2.plan-exists",
    "b3.l2.agency-owner",
    "b3.l3.multi-agency-plan",
    "b3.l3.ctlp-recommendations",
    "b3.l3.actions-reviewed",
    "b3.l3.actions-owned",
    "b3.l4.statutory-obligations",
    "b3.l4.partners-named",
    "b3.l4.linked-to-risk",
    "b3.l4.timeframes",
    "b3.l4.owners",
];

#[test]
fn the_documented_input_gets_suggestions_bands_rag_blocking_and_a_summary() {
    let answer = ok(json!({
        "framework": "prevent-la-2018",
        "council": "Ashbridge Borough Council",
        "benchmarks": [
            {"number": 3, "criteria_met": B3_TO_LEVEL_4,
             "statuses": {"3.1": "achieving", "3.2": "developing", "3.3": "developing"},
             "not_scored": false, "proposed": 3},
            {"number": 1, "criteria_met": ["b1.l2.partner-assessments", "b1.l2.ctlp-understanding"],
             "statuses": {"1.1": "developing"}},
            {"number": 5, "criteria_met": [], "statuses": {}, "not_scored": true},
        ]
    }));

    let b3 = &answer["benchmarks"][0];
    assert_eq!(b3["number"], 3);
    assert_eq!(b3["suggested"], 4);
    assert_eq!(b3["band"], "exceeding");
    assert_eq!(b3["rag"], "green");
    assert_eq!(
        b3["blocking"],
        json!([
            "b3.l5.board-oversight",
            "b3.l5.accountability",
            "b3.l5.progress-updates",
            "b3.l5.informs-delivery"
        ])
    );
    assert!(b3["explanation"].as_str().is_some_and(|e| {
        e.starts_with("Level 4: every criterion of levels 2 to 4 is met. To reach level 5")
    }));
    assert_eq!(b3["justification_required"], true);

    let b1 = &answer["benchmarks"][1];
    assert_eq!(
        (
            b1["suggested"].clone(),
            b1["band"].clone(),
            b1["rag"].clone()
        ),
        (json!(2), json!("not_meeting"), json!("red"))
    );

    let b5 = &answer["benchmarks"][2];
    assert_eq!(
        (
            b5["suggested"].clone(),
            b5["band"].clone(),
            b5["rag"].clone()
        ),
        (Value::Null, Value::Null, Value::Null)
    );

    assert_eq!(
        answer["summary"],
        "Overall, Ashbridge Borough Council is exceeding the requirements of the Prevent Duty in half of the areas and not meeting them in the other half."
    );
}

#[test]
fn an_expectation_question_not_started_caps_the_suggestion_in_the_command_too() {
    let answer = ok(json!({
        "framework": "prevent-la-2018",
        "benchmarks": [{"number": 3, "criteria_met": B3_TO_LEVEL_4,
                        "statuses": {"3.1": "achieving", "3.2": "developing", "3.3": "not_started"}}]
    }));

    assert_eq!(answer["benchmarks"][0]["suggested"], 2);
    assert_eq!(
        answer["benchmarks"][0]["not_started_expectations"],
        json!(["3.3"])
    );
}

#[test]
fn the_rag_mapping_is_configurable() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_prevent-assure"))
        .args(["score", "--rag-mapping", "exceeding=amber"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("runs");
    let input = json!({"framework": "prevent-la-2018", "benchmarks": [{"number": 3, "criteria_met": B3_TO_LEVEL_4, "statuses": {"3.1": "achieving", "3.2": "achieving", "3.3": "achieving"}}]});
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("written");
    let output = child.wait_with_output().expect("finishes");
    let answer: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(answer["benchmarks"][0]["rag"], "amber");
}

#[test]
fn malformed_json_is_refused_with_exit_2() {
    let message = refused(r#"{"framework": "prevent-la-2018", "benchmarks": ["#);
    assert!(message.contains("malformed JSON"), "{message}");
}

#[test]
fn an_unknown_framework_is_refused_by_name() {
    let message = refused(r#"{"framework": "prevent-la-1999", "benchmarks": []}"#);
    assert!(
        message.contains("unknown framework \"prevent-la-1999\""),
        "{message}"
    );
}

#[test]
fn unknown_benchmarks_questions_criteria_and_statuses_are_refused_by_name() {
    let message = refused(
        &json!({"framework": "prevent-la-2018", "benchmarks": [
            {"number": 12},
            {"number": 3, "criteria_met": ["b3.l4.made-up", "b4.l2.referral-pathway"],
             "statuses": {"3.7": "achieving", "3.1": "finished"}}
        ]})
        .to_string(),
    );
    for expected in [
        "unknown benchmark 12",
        "benchmark 3: unknown criterion \"b3.l4.made-up\"",
        "benchmark 3: unknown question \"3.7\"",
        "benchmark 3, question 3.1: unknown status \"finished\"",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} not in:\n{message}"
        );
    }
}

#[test]
fn a_criterion_of_another_benchmark_is_refused_naming_where_it_belongs() {
    let criterion = "b1.l2.ctlp-understanding";
    let message = refused(
        &json!({"framework": "prevent-la-2018", "benchmarks": [{"number": 2, "criteria_met": [criterion]}]})
            .to_string(),
    );
    assert!(
        message.contains("criterion \"b1.l2.ctlp-understanding\" belongs to benchmark 1"),
        "{message}"
    );
}

#[test]
fn only_a_benchmark_the_framework_allows_may_be_not_scored() {
    let message = refused(
        &json!({"framework": "prevent-la-2018", "benchmarks": [{"number": 7, "not_scored": true}]})
            .to_string(),
    );
    assert!(
        message.contains("benchmark 7 cannot be marked not scored"),
        "{message}"
    );
}
