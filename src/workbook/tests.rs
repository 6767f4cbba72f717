use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::*;

#[test]
fn columns_are_lettered_as_excel_does() {
    assert_eq!(column(0), "A");
    assert_eq!(column(25), "Z");
    assert_eq!(column(26), "AA");
    assert_eq!(column(27), "AB");
    assert_eq!(column(16_383), "XFD");
    assert_eq!(column(u32::MAX), "MWLQKWV");
}

#[test]
fn a_table_is_a_workbook_calamine_reads_back_with_dates_as_dates() {
    let rows = [vec![
        Cell::Text("a".to_owned()),
        Cell::Text("=1+1".to_owned()),
        Cell::Date(Date::from_calendar_date(2027, time::Month::March, 31).ok()),
    ]];
    let bytes = table(
        "Plan",
        "A plan",
        &["One", "Two", "Due"],
        &[10.0, 10.0, 12.0],
        &rows,
    )
    .expect("written");
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("a workbook");
    let range = wb.worksheet_range("Plan").expect("the sheet");
    assert_eq!(range.get_value((0, 1)), Some(&Data::String("Two".into())));
    // Text that looks like a formula stays text.
    assert_eq!(range.get_value((1, 1)), Some(&Data::String("=1+1".into())));
    match range.get_value((1, 2)) {
        Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), 46477.0),
        other => panic!("a date, not {other:?}"),
    }
}

#[test]
fn something_that_is_not_a_workbook_is_refused() {
    let fw = crate::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");
    assert_eq!(
        read(b"not a zip", &fw, &[], 2026),
        Err(ReadError::NotAWorkbook)
    );
}

#[test]
fn text_people_type_comes_back_from_the_workbook_as_typed() {
    let fw = crate::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");
    let statuses = [("open", "Open"), ("done", "Done")];
    // XML's own characters, Excel's escape written literally, a line break, a tab, leading
    // spaces, text past the basic plane, and text that looks like a formula.
    let typed = [
        "Minutes <kept> & \"filed\" with 'quotes'",
        "The code _x0041_ stays as written, and _x005F_ too",
        "First line\nsecond line\twith a tab",
        "   starts with spaces",
        "Noted 🙂 in the minutes, café",
        "=SUM(A1:A2)",
    ];
    let section = &fw.sections[0];
    let book = Book {
        council: "A & B Council".to_owned(),
        cycle: "2026/27".to_owned(),
        state: "Draft".to_owned(),
        benchmarks: fw
            .sections
            .iter()
            .map(|s| BookBenchmark {
                number: s.number,
                rag: None,
                proposed_score: None,
                proposed_not_scored: false,
                justification: if s.number == 1 {
                    typed[0].to_owned()
                } else {
                    String::new()
                },
                comments: String::new(),
                criteria_met: Vec::new(),
                agreed: String::new(),
                answers: if s.number == 1 {
                    s.items
                        .iter()
                        .zip(typed.iter().cycle())
                        .map(|(i, text)| BookAnswer {
                            code: i.code.clone(),
                            status: None,
                            evidence: (*text).to_owned(),
                            prompt_evidence: vec![String::new(); i.prompts.len()],
                            needs_review: false,
                            fields: Default::default(),
                        })
                        .collect()
                } else {
                    Vec::new()
                },
                actions: Vec::new(),
            })
            .collect(),
        other_actions: Vec::new(),
    };
    let bytes = write(&book, &fw, &statuses).expect("written");
    let read_back = read(&bytes, &fw, &statuses, 2026).expect("read back");
    let first = read_back
        .benchmarks
        .iter()
        .find(|b| b.number == 1)
        .expect("benchmark 1");
    assert_eq!(first.justification, typed[0]);
    for (item, text) in section.items.iter().zip(typed.iter().cycle()) {
        let answer = first
            .answers
            .iter()
            .find(|a| a.code == item.code)
            .expect("the answer");
        assert_eq!(
            answer.evidence,
            crate::web::forms::clean_text(text),
            "{}",
            item.code
        );
    }
}
