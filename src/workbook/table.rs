//! One sheet of rows under a heading row (the action plan's export): dates as dates, a filter
//! on every column, the heading row frozen and repeated on every printed page, A4 landscape.

use super::xlsx::{Style, XlsxError};
use time::Date;

/// A cell of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// Written as a date Excel sorts and filters by.
    Date(Option<Date>),
    /// Written as a number, to sum and average.
    Number(i64),
}

/// The table as a workbook: `widths` in characters, one per heading.
pub fn table(
    sheet: &str,
    title: &str,
    headers: &[&str],
    widths: &[f64],
    rows: &[Vec<Cell>],
) -> Result<Vec<u8>, XlsxError> {
    let mut book = super::new_workbook();
    let (bold, wrap, date) = (Style::TableBold, Style::TableWrap, Style::TableDate);
    let ws = book.add_worksheet();
    ws.set_name(sheet)?;
    // The heading row tall enough for its longest heading, wrapped to its column (a program
    // opening the file does not grow a row whose text wraps).
    let mut lines = 1.0f64;
    for (c, h) in headers.iter().enumerate() {
        let width = widths.get(c).copied().unwrap_or(18.0);
        ws.write_string_with_format(0, c as u16, *h, &bold)?;
        ws.set_column_width(c as u16, width)?;
        lines = lines.max((h.chars().count() as f64 * 1.1 / width).ceil());
    }
    ws.set_row_height(0, 15.0 * lines)?;
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        let texts: Vec<(f64, &str)> = row
            .iter()
            .enumerate()
            .filter_map(|(c, cell)| match cell {
                Cell::Text(text) => Some((widths.get(c).copied().unwrap_or(18.0), text.as_str())),
                _ => None,
            })
            .collect();
        super::fit_row(ws, r, &texts)?;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(text) => {
                    ws.write_string_with_format(r, c, text, &wrap)?;
                }
                Cell::Date(Some(d)) => {
                    ws.write_date_with_format(r, c, *d, &date)?;
                }
                Cell::Date(None) => {}
                Cell::Number(n) => {
                    ws.write_number_with_format(r, c, *n as f64, &wrap)?;
                }
            }
        }
    }
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(
        0,
        0,
        rows.len() as u32,
        headers.len().saturating_sub(1) as u16,
    )?;
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_width();
    ws.set_repeat_row(0)?;
    ws.set_header(format!("&L&B{}&R&D", title.replace('&', "&&")));
    ws.set_footer("&CPage &P of &N");
    book.save_to_buffer(super::ZIP_LEVEL)
}
