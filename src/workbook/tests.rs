use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};

use super::*;

#[test]
fn columns_are_lettered_as_excel_does() {
    assert_eq!(column(0), "A");
    assert_eq!(column(25), "Z");
    assert_eq!(column(26), "AA");
    assert_eq!(column(27), "AB");
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
