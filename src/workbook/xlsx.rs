//! Writing a workbook's XML ourselves: the service's workbooks use a handful of fixed cell
//! styles, text, numbers and dates, lists to choose from, frozen headings, sheet protection and
//! print setup, and nothing else. rust_xlsxwriter, which wrote them before, hashed each cell's
//! whole format and each string (SipHash, a quarter of the work), and spawned a thread per
//! sheet on every save: 4.7 ms of CPU for an assessment's eleven sheets, against the 1.5 ms
//! a download may cost (bench/README.md). Here a style is an index into one fixed style sheet,
//! text is written in the cell (`inlineStr`, no shared string table to hash), and each sheet is
//! written out once, in order, and deflated at level 1.
//!
//! The XML follows, element for element and in the same order (the order within a worksheet
//! matters to Excel), what rust_xlsxwriter wrote for these workbooks, which follows Excel's
//! own files; the tests open it with LibreOffice and read it back with calamine.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use time::Date;

use super::package::{Method, Package};

/// Why a workbook could not be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XlsxError(String);

impl fmt::Display for XlsxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for XlsxError {}

impl XlsxError {
    pub(super) fn new(why: impl Into<String>) -> XlsxError {
        XlsxError(why.into())
    }
}

/// The cell styles every workbook here may use: indices into `STYLES`' `cellXfs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Excel's default.
    Plain = 0,
    /// Bold, 14 point.
    Heading = 1,
    /// A table's heading: bold, shaded, bordered, wrapped, at the top.
    Header = 2,
    /// Read only: locked, shaded, bold.
    FixedBold = 3,
    /// Read only: locked, shaded.
    Fixed = 4,
    /// To fill in: unlocked, bordered.
    Open = 5,
    /// A plain table's heading: bold, wrapped, at the top.
    TableBold = 6,
    /// A plain table's cell: wrapped, at the top.
    TableWrap = 7,
    /// A date ("1 Apr 2027"), at the top, to the left.
    TableDate = 8,
}

const STYLES: &str = concat!(
    r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
    "\n",
    r#"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#,
    r#"<numFmts count="1"><numFmt numFmtId="164" formatCode="d mmm yyyy"/></numFmts>"#,
    r#"<fonts count="3">"#,
    r#"<font><sz val="11"/><name val="Calibri"/><family val="2"/></font>"#,
    r#"<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font>"#,
    r#"<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>"#,
    r#"</fonts><fills count="4">"#,
    r#"<fill><patternFill patternType="none"/></fill>"#,
    r#"<fill><patternFill patternType="gray125"/></fill>"#,
    r#"<fill><patternFill patternType="solid"><fgColor rgb="FFDEE0E2"/><bgColor indexed="64"/></patternFill></fill>"#,
    r#"<fill><patternFill patternType="solid"><fgColor rgb="FFF3F2F1"/><bgColor indexed="64"/></patternFill></fill>"#,
    r#"</fills><borders count="2">"#,
    r#"<border><left/><right/><top/><bottom/><diagonal/></border>"#,
    r#"<border><left style="thin"><color rgb="FFB1B4B6"/></left><right style="thin"><color rgb="FFB1B4B6"/></right><top style="thin"><color rgb="FFB1B4B6"/></top><bottom style="thin"><color rgb="FFB1B4B6"/></bottom><diagonal/></border>"#,
    r#"</borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>"#,
    r#"<cellXfs count="9">"#,
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>"#,
    r#"<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>"#,
    r#"<xf numFmtId="0" fontId="2" fillId="2" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    r#"<xf numFmtId="0" fontId="2" fillId="3" borderId="1" xfId="0" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    r#"<xf numFmtId="0" fontId="0" fillId="3" borderId="1" xfId="0" applyFill="1" applyBorder="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="1" xfId="0" applyBorder="1" applyAlignment="1" applyProtection="1"><alignment vertical="top" wrapText="1"/><protection locked="0"/></xf>"#,
    r#"<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    r#"<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment vertical="top" wrapText="1"/></xf>"#,
    r#"<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyAlignment="1"><alignment horizontal="left" vertical="top"/></xf>"#,
    r#"</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>"#,
    r#"<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium9" defaultPivotStyle="PivotStyleLight16"/></styleSheet>"#,
);

enum Value {
    Blank,
    Text(String),
    Number(f64),
}

/// A cell: its column, its style's index, what it holds.
type Cell = (u16, u8, Value);

/// A list to choose from, with what Excel says when something else is typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataValidation {
    list: String,
    title: String,
    message: String,
}

impl DataValidation {
    /// A choice from `items`; `message` is shown when a cell holds something else.
    pub fn list(items: &[&str], title: &str, message: &str) -> Result<DataValidation, XlsxError> {
        let list = items.join(",");
        // Excel's limits: a list of at most 255 characters, a title of 32, a message of 255.
        if list.chars().count() > 255 || items.iter().any(|i| i.contains(['"', ','])) {
            return Err(XlsxError(format!("a list Excel cannot hold: {list}")));
        }
        if title.chars().count() > 32 || message.chars().count() > 255 {
            return Err(XlsxError(format!("an error message too long: {message}")));
        }
        Ok(DataValidation {
            list,
            title: title.to_owned(),
            message: message.to_owned(),
        })
    }
}

/// A row of a worksheet: its number (from 0), its cells by column, its height.
struct Row {
    r: u32,
    cells: Vec<Cell>,
    height: Option<f64>,
}

impl Row {
    fn new(r: u32) -> Row {
        Row {
            r,
            cells: Vec::new(),
            height: None,
        }
    }
}

/// A worksheet: cells by row, and how it is shown, protected and printed.
#[derive(Default)]
pub struct Worksheet {
    name: String,
    /// Rows in order, each with its cells by column and its height. A sorted list rather than
    /// a map: rows are written top to bottom as a rule, so a cell's row is nearly always the
    /// last one (a map's search for every cell was 4% of an assessment's workbook).
    rows: Vec<Row>,
    /// Column → (width in characters, hidden).
    cols: BTreeMap<u16, (Option<f64>, bool)>,
    /// Frozen above this row and left of this column.
    freeze: Option<(u32, u16)>,
    /// Each list with the ranges it applies to, in the order first added.
    validations: Vec<(DataValidation, Vec<String>)>,
    protect: bool,
    landscape: bool,
    paper: u8,
    fit_width: bool,
    repeat_row: Option<u32>,
    header: String,
    footer: String,
    autofilter: Option<String>,
}

impl Worksheet {
    pub fn set_name(&mut self, name: impl Into<String>) -> Result<&mut Worksheet, XlsxError> {
        let name = name.into();
        if name.is_empty()
            || name.chars().count() > 31
            || name.contains(['[', ']', ':', '*', '?', '/', '\\'])
            || name.starts_with('\'')
            || name.ends_with('\'')
        {
            return Err(XlsxError(format!("not a sheet name Excel allows: {name}")));
        }
        self.name = name;
        Ok(self)
    }

    /// Row `r`, added in its place when it has nothing yet.
    fn row(&mut self, r: u32) -> &mut Row {
        let at = match self.rows.last() {
            Some(last) if last.r == r => self.rows.len() - 1,
            Some(last) if last.r > r => match self.rows.binary_search_by_key(&r, |row| row.r) {
                Ok(at) => at,
                Err(at) => {
                    self.rows.insert(at, Row::new(r));
                    at
                }
            },
            _ => {
                self.rows.push(Row::new(r));
                self.rows.len() - 1
            }
        };
        &mut self.rows[at]
    }

    fn cell(&mut self, row: u32, col: u16, style: Style, value: Value) {
        let cells = &mut self.row(row).cells;
        // Written left to right, as a rule: only a cell written again replaces one.
        if cells.last().is_none_or(|(c, _, _)| *c < col) {
            cells.push((col, style as u8, value));
            return;
        }
        match cells.iter_mut().find(|(c, _, _)| *c == col) {
            Some(cell) => *cell = (col, style as u8, value),
            None => cells.push((col, style as u8, value)),
        }
    }

    pub fn write_string(
        &mut self,
        row: u32,
        col: u16,
        text: impl Into<String>,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.write_string_with_format(row, col, text, &Style::Plain)
    }

    pub fn write_string_with_format(
        &mut self,
        row: u32,
        col: u16,
        text: impl Into<String>,
        style: &Style,
    ) -> Result<&mut Worksheet, XlsxError> {
        let text = text.into();
        // Excel's limit for a cell, in characters (counted only when the bytes could exceed it).
        if text.len() > 32_767 && text.chars().count() > 32_767 {
            return Err(XlsxError("text longer than a cell holds".to_owned()));
        }
        let value = if text.is_empty() {
            Value::Blank
        } else {
            Value::Text(text)
        };
        self.cell(row, col, *style, value);
        Ok(self)
    }

    pub fn write_blank(
        &mut self,
        row: u32,
        col: u16,
        style: &Style,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.cell(row, col, *style, Value::Blank);
        Ok(self)
    }

    pub fn write_number_with_format(
        &mut self,
        row: u32,
        col: u16,
        number: f64,
        style: &Style,
    ) -> Result<&mut Worksheet, XlsxError> {
        if !number.is_finite() {
            return Err(XlsxError("a number Excel cannot hold".to_owned()));
        }
        self.cell(row, col, *style, Value::Number(number));
        Ok(self)
    }

    /// A date as Excel counts days (from 30 December 1899), shown with `style`.
    pub fn write_date_with_format(
        &mut self,
        row: u32,
        col: u16,
        date: Date,
        style: &Style,
    ) -> Result<&mut Worksheet, XlsxError> {
        let epoch = Date::from_calendar_date(1899, time::Month::December, 30)
            .map_err(|e| XlsxError(e.to_string()))?;
        let days = (date - epoch).whole_days();
        // Excel's dates start in 1900.
        if days < 61 {
            return Err(XlsxError(format!("a date before Excel's: {date}")));
        }
        self.cell(row, col, *style, Value::Number(days as f64));
        Ok(self)
    }

    pub fn set_row_height(&mut self, row: u32, height: f64) -> Result<&mut Worksheet, XlsxError> {
        self.row(row).height = Some(height);
        Ok(self)
    }

    pub fn set_column_width(&mut self, col: u16, width: f64) -> Result<&mut Worksheet, XlsxError> {
        self.cols.entry(col).or_default().0 = Some(width);
        Ok(self)
    }

    pub fn set_column_hidden(&mut self, col: u16) -> Result<&mut Worksheet, XlsxError> {
        self.cols.entry(col).or_default().1 = true;
        Ok(self)
    }

    pub fn set_freeze_panes(&mut self, row: u32, col: u16) -> Result<&mut Worksheet, XlsxError> {
        self.freeze = Some((row, col));
        Ok(self)
    }

    /// The list applies to the cells from (first_row, first_col) to (last_row, last_col).
    pub fn add_data_validation(
        &mut self,
        first_row: u32,
        first_col: u16,
        last_row: u32,
        last_col: u16,
        validation: &DataValidation,
    ) -> Result<&mut Worksheet, XlsxError> {
        if first_row > last_row || first_col > last_col {
            return Err(XlsxError("a range given last to first".to_owned()));
        }
        let range = range(first_row, first_col, last_row, last_col);
        match self.validations.iter_mut().find(|(v, _)| v == validation) {
            Some((_, ranges)) => ranges.push(range),
            None => self.validations.push((validation.clone(), vec![range])),
        }
        Ok(self)
    }

    pub fn autofilter(
        &mut self,
        first_row: u32,
        first_col: u16,
        last_row: u32,
        last_col: u16,
    ) -> Result<&mut Worksheet, XlsxError> {
        self.autofilter = Some(range(first_row, first_col, last_row, last_col));
        Ok(self)
    }

    /// Locks the sheet (no password): cells styled `Open` stay editable.
    pub fn protect(&mut self) -> &mut Worksheet {
        self.protect = true;
        self
    }

    pub fn set_landscape(&mut self) -> &mut Worksheet {
        self.landscape = true;
        self
    }

    pub fn set_paper_size(&mut self, paper: u8) -> &mut Worksheet {
        self.paper = paper;
        self
    }

    /// Printed one page wide, as many pages tall as it takes.
    pub fn set_print_fit_to_width(&mut self) -> &mut Worksheet {
        self.fit_width = true;
        self
    }

    /// The row repeated at the top of each printed page.
    pub fn set_repeat_row(&mut self, row: u32) -> Result<&mut Worksheet, XlsxError> {
        self.repeat_row = Some(row);
        Ok(self)
    }

    pub fn set_header(&mut self, header: impl Into<String>) -> &mut Worksheet {
        self.header = header.into();
        self
    }

    pub fn set_footer(&mut self, footer: impl Into<String>) -> &mut Worksheet {
        self.footer = footer.into();
        self
    }

    /// The worksheet's XML, appended to `out`.
    fn xml(&mut self, selected: bool, out: &mut String) {
        out.push_str(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
        ));
        if self.fit_width {
            out.push_str(r#"<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>"#);
        }
        for row in &mut self.rows {
            row.cells.sort_unstable_by_key(|(c, _, _)| *c);
        }
        let last_row = self.rows.last().map_or(0, |row| row.r);
        let last_col = self
            .rows
            .iter()
            .filter_map(|row| row.cells.last().map(|(c, _, _)| *c))
            .max()
            .unwrap_or(0);
        let first_row = self.rows.first().map_or(0, |row| row.r);
        let first_col = self
            .rows
            .iter()
            .filter_map(|row| row.cells.first().map(|(c, _, _)| *c))
            .min()
            .unwrap_or(0);
        let _ = write!(
            out,
            r#"<dimension ref="{}"/><sheetViews><sheetView"#,
            range(first_row, first_col, last_row, last_col)
        );
        if selected {
            out.push_str(r#" tabSelected="1""#);
        }
        out.push_str(r#" workbookViewId="0">"#);
        match self.freeze {
            Some((r, c)) if r > 0 && c > 0 => {
                let _ = write!(
                    out,
                    r#"<pane xSplit="{c}" ySplit="{r}" topLeftCell="{tl}" activePane="bottomRight" state="frozen"/><selection pane="topRight" activeCell="{tr}" sqref="{tr}"/><selection pane="bottomLeft" activeCell="{bl}" sqref="{bl}"/><selection pane="bottomRight"/>"#,
                    tl = cell_ref(r, c),
                    tr = cell_ref(0, c),
                    bl = cell_ref(r, 0),
                );
            }
            Some((r, 0)) if r > 0 => {
                let _ = write!(
                    out,
                    r#"<pane ySplit="{r}" topLeftCell="{}" activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/>"#,
                    cell_ref(r, 0)
                );
            }
            Some((0, c)) if c > 0 => {
                let _ = write!(
                    out,
                    r#"<pane xSplit="{c}" topLeftCell="{}" activePane="topRight" state="frozen"/><selection pane="topRight"/>"#,
                    cell_ref(0, c)
                );
            }
            _ => {}
        }
        out.push_str(r#"</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>"#);
        if !self.cols.is_empty() {
            out.push_str("<cols>");
            for (col, (width, hidden)) in &self.cols {
                let n = col + 1;
                let width = excel_width(width.unwrap_or(8.43));
                let _ = write!(out, r#"<col min="{n}" max="{n}" width="{width}""#);
                if *hidden {
                    out.push_str(r#" hidden="1""#);
                }
                out.push_str(r#" customWidth="1"/>"#);
            }
            out.push_str("</cols>");
        }
        out.push_str("<sheetData>");
        for Row { r, cells, height } in &self.rows {
            let r = r + 1;
            out.push_str(r#"<row r=""#);
            push_number(out, r);
            out.push('"');
            if let Some(h) = height {
                let _ = write!(out, r#" ht="{h}" customHeight="1""#);
            }
            out.push('>');
            for (col, style, value) in cells {
                out.push_str(r#"<c r=""#);
                push_column(out, u32::from(*col));
                push_number(out, r);
                out.push('"');
                if *style != 0 {
                    out.push_str(r#" s=""#);
                    push_number(out, u32::from(*style));
                    out.push('"');
                }
                match value {
                    Value::Blank => out.push_str("/>"),
                    // Whole numbers (scores, counts, dates) without the float formatter.
                    Value::Number(n) if n.fract() == 0.0 && (0.0..4e9).contains(n) => {
                        out.push_str("><v>");
                        push_number(out, *n as u32);
                        out.push_str("</v></c>");
                    }
                    Value::Number(n) => {
                        let _ = write!(out, "><v>{n}</v></c>");
                    }
                    Value::Text(t) => {
                        out.push_str(r#" t="inlineStr"><is><t"#);
                        if t.starts_with(char::is_whitespace) || t.ends_with(char::is_whitespace) {
                            out.push_str(r#" xml:space="preserve""#);
                        }
                        out.push('>');
                        escape_text(out, t);
                        out.push_str("</t></is></c>");
                    }
                }
            }
            out.push_str("</row>");
        }
        out.push_str("</sheetData>");
        if self.protect {
            out.push_str(r#"<sheetProtection sheet="1" objects="1" scenarios="1"/>"#);
        }
        if let Some(filter) = &self.autofilter {
            let _ = write!(out, r#"<autoFilter ref="{filter}"/>"#);
        }
        if !self.validations.is_empty() {
            let _ = write!(
                out,
                r#"<dataValidations count="{}">"#,
                self.validations.len()
            );
            for (v, ranges) in &self.validations {
                out.push_str(r#"<dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1" errorTitle=""#);
                escape_attribute(out, &v.title);
                out.push_str(r#"" error=""#);
                escape_attribute(out, &v.message);
                out.push_str(r#"" sqref=""#);
                out.push_str(&ranges.join(" "));
                out.push_str(r#""><formula1>""#);
                escape_text(out, &v.list);
                out.push_str(r#""</formula1></dataValidation>"#);
            }
            out.push_str("</dataValidations>");
        }
        out.push_str(
            r#"<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>"#,
        );
        if self.paper != 0 || self.landscape || self.fit_width {
            out.push_str("<pageSetup");
            if self.paper != 0 {
                let _ = write!(out, r#" paperSize="{}""#, self.paper);
            }
            if self.fit_width {
                out.push_str(r#" fitToHeight="0""#);
            }
            if self.landscape {
                out.push_str(r#" orientation="landscape""#);
            }
            out.push_str(r#" horizontalDpi="200" verticalDpi="200"/>"#);
        }
        if !self.header.is_empty() || !self.footer.is_empty() {
            out.push_str("<headerFooter>");
            if !self.header.is_empty() {
                out.push_str("<oddHeader>");
                escape_text(out, &self.header);
                out.push_str("</oddHeader>");
            }
            if !self.footer.is_empty() {
                out.push_str("<oddFooter>");
                escape_text(out, &self.footer);
                out.push_str("</oddFooter>");
            }
            out.push_str("</headerFooter>");
        }
        out.push_str("</worksheet>");
    }
}

/// A workbook of worksheets, written as an `.xlsx` file.
#[derive(Default)]
pub struct Workbook {
    sheets: Vec<Worksheet>,
}

impl Workbook {
    pub fn new() -> Workbook {
        Workbook::default()
    }

    pub fn add_worksheet(&mut self) -> &mut Worksheet {
        let n = self.sheets.len() + 1;
        self.sheets.push(Worksheet {
            name: format!("Sheet{n}"),
            ..Worksheet::default()
        });
        self.sheets.last_mut().expect("just added")
    }

    /// The `.xlsx` file: a zip of the parts, deflated at `level`.
    pub fn save_to_buffer(&mut self, level: i64) -> Result<Vec<u8>, XlsxError> {
        let n = self.sheets.len();
        let mut names: Vec<&str> = self.sheets.iter().map(|s| s.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0].eq_ignore_ascii_case(w[1])) {
            return Err(XlsxError("two sheets with one name".to_owned()));
        }
        let mut zip = Package::new(u32::try_from(level).unwrap_or(1), 96 * 1024);
        // The parts of a few hundred bytes to 3 KB that say how the workbook is put together
        // are stored as they are: deflating them saves 1-2 KB for 5% of the writer's time.
        let small = Method::Stored;
        let mut part = String::with_capacity(64 * 1024);

        part.push_str(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
        ));
        for i in 1..=n {
            let _ = write!(
                part,
                r#"<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
            );
        }
        part.push_str("</Types>");
        zip.add("[Content_Types].xml", part.as_bytes(), small)?;

        zip.add(
            "_rels/.rels",
            concat!(
                r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
                "\n",
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            )
            .as_bytes(),
            small,
        )?;

        part.clear();
        part.push_str(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
        ));
        for i in 1..=n {
            let _ = write!(
                part,
                r#"<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>"#
            );
        }
        let _ = write!(
            part,
            r#"<Relationship Id="rId{}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#,
            n + 1
        );
        zip.add("xl/_rels/workbook.xml.rels", part.as_bytes(), small)?;

        part.clear();
        part.push_str(concat!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#,
            "\n",
            r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><fileVersion appName="xl" lastEdited="4" lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews><workbookView xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews><sheets>"#
        ));
        for (i, s) in self.sheets.iter().enumerate() {
            part.push_str(r#"<sheet name=""#);
            escape_attribute(&mut part, &s.name);
            let _ = write!(part, r#"" sheetId="{}" r:id="rId{}"/>"#, i + 1, i + 1);
        }
        part.push_str("</sheets>");
        let mut defined = Vec::new();
        for (i, s) in self.sheets.iter().enumerate() {
            let quoted = quote_sheet(&s.name);
            if let Some(filter) = &s.autofilter {
                let absolute = filter
                    .split(':')
                    .map(absolute_ref)
                    .collect::<Vec<_>>()
                    .join(":");
                defined.push(format!(
                    r#"<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">{quoted}!{absolute}</definedName>"#
                ));
            }
            if let Some(row) = s.repeat_row {
                defined.push(format!(
                    r#"<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{quoted}!${r}:${r}</definedName>"#,
                    r = row + 1
                ));
            }
        }
        if !defined.is_empty() {
            part.push_str("<definedNames>");
            // Each name written as built: `quote_sheet` escaped the sheet's name for XML.
            for d in &defined {
                part.push_str(d);
            }
            part.push_str("</definedNames>");
        }
        part.push_str(r#"<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>"#);
        zip.add("xl/workbook.xml", part.as_bytes(), small)?;

        zip.add("xl/styles.xml", STYLES.as_bytes(), small)?;

        for (i, sheet) in self.sheets.iter_mut().enumerate() {
            part.clear();
            sheet.xml(i == 0, &mut part);
            zip.add(
                &format!("xl/worksheets/sheet{}.xml", i + 1),
                part.as_bytes(),
                Method::Deflated,
            )?;
        }
        zip.finish()
    }
}

/// A sheet's name as a formula names it: quoted unless plain letters, digits and underscores,
/// and escaped for XML.
fn quote_sheet(name: &str) -> String {
    let mut out = String::new();
    let plain = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        escape_text(&mut out, name);
    } else {
        out.push('\'');
        escape_text(&mut out, &name.replace('\'', "''"));
        out.push('\'');
    }
    out
}

/// "A1" as "$A$1".
fn absolute_ref(cell: &str) -> String {
    let split = cell
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(cell.len());
    format!("${}${}", &cell[..split], &cell[split..])
}

/// Excel's column width for a width in characters (Calibri 11: 7 pixels a digit, 5 of padding).
fn excel_width(width: f64) -> f64 {
    if width <= 0.0 {
        return 0.0;
    }
    let pixels = if width < 1.0 {
        (width * 12.0 + 0.5).floor()
    } else {
        (width * 7.0 + 0.5).floor() + 5.0
    };
    ((pixels / 7.0) * 256.0).floor() / 256.0
}

/// A number in decimal, without the formatting machinery (it is written for every cell).
fn push_number(out: &mut String, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

/// Column letters as Excel shows them: 0 is A, 26 is AA (any u32: seven letters at most).
pub(super) fn push_column(out: &mut String, col: u32) {
    let mut n = u64::from(col) + 1;
    let mut letters = [0u8; 7];
    let mut i = letters.len();
    while n > 0 {
        i -= 1;
        letters[i] = b'A' + ((n - 1) % 26) as u8;
        n = (n - 1) / 26;
    }
    for &b in &letters[i..] {
        out.push(char::from(b));
    }
}

fn cell_ref(row: u32, col: u16) -> String {
    let mut s = String::new();
    push_column(&mut s, u32::from(col));
    let _ = write!(s, "{}", row + 1);
    s
}

fn range(first_row: u32, first_col: u16, last_row: u32, last_col: u16) -> String {
    if (first_row, first_col) == (last_row, last_col) {
        cell_ref(first_row, first_col)
    } else {
        format!(
            "{}:{}",
            cell_ref(first_row, first_col),
            cell_ref(last_row, last_col)
        )
    }
}

/// Text for an element's content: `&`, `<`, `>` escaped; the characters XML cannot hold
/// written as Excel's `_xHHHH_` (and a literal `_xHHHH_` kept literal by escaping its
/// underscore), as Excel does.
fn escape_text(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        // Most bytes need nothing: a table says which to look at closer (0xEF begins U+FFFE
        // and U+FFFF), one lookup a byte instead of a chain of comparisons.
        let b = bytes[i];
        if !NOTICED[usize::from(b)] {
            i += 1;
            continue;
        }
        let escaped: &str = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'_' if looks_escaped(&bytes[i..]) => "_x005F_",
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBF, 0xBE]) => "_xFFFE_",
            0xEF if bytes[i..].starts_with(&[0xEF, 0xBF, 0xBF]) => "_xFFFF_",
            b'_' | 0xEF => {
                i += 1;
                continue;
            }
            _ => "",
        };
        out.push_str(&text[start..i]);
        if escaped.is_empty() {
            let _ = write!(out, "_x{b:04X}_");
        } else {
            out.push_str(escaped);
        }
        i += if b == 0xEF { 3 } else { 1 };
        start = i;
    }
    out.push_str(&text[start..]);
}

/// The bytes [`escape_text`] looks at closer: `&`, `<`, `>`, `_`, 0xEF, and the control
/// characters but tab and line feed.
const NOTICED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b != b'\t' as usize && b != b'\n' as usize;
        b += 1;
    }
    table[b'&' as usize] = true;
    table[b'<' as usize] = true;
    table[b'>' as usize] = true;
    table[b'_' as usize] = true;
    table[0xEF] = true;
    table
};

/// Whether text starts with `_xHHHH_`, which Excel would read as an escape.
fn looks_escaped(bytes: &[u8]) -> bool {
    bytes.len() >= 7
        && bytes[1] == b'x'
        && bytes[2..6].iter().all(u8::is_ascii_hexdigit)
        && bytes[6] == b'_'
}

/// Text for an attribute: as content, with quotes and line breaks escaped too.
fn escape_attribute(out: &mut String, text: &str) {
    let mut escaped = String::with_capacity(text.len());
    escape_text(&mut escaped, text);
    out.push_str(&escaped.replace('"', "&quot;").replace('\n', "&#xA;"));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_columns_are_written_as_excel_names_them() {
        let mut out = String::new();
        push_column(&mut out, 0);
        push_number(&mut out, 1);
        push_column(&mut out, 27);
        push_number(&mut out, 4_294_967_295);
        assert_eq!(out, "A1AB4294967295");
    }

    #[test]
    fn widths_are_as_excel_writes_them() {
        assert_eq!(excel_width(12.0), 12.7109375);
        assert_eq!(excel_width(62.0), 62.7109375);
    }

    #[test]
    fn text_is_escaped_for_xml_and_for_excel() {
        let mut out = String::new();
        escape_text(&mut out, "a & b <c>\r\n_x0041_ \u{1}é\u{ffff}");
        assert_eq!(
            out,
            "a &amp; b &lt;c&gt;_x000D_\n_x005F_x0041_ _x0001_é_xFFFF_"
        );
    }

    #[test]
    fn sheet_names_are_quoted_in_formulas_when_they_must_be() {
        assert_eq!(quote_sheet("Summary"), "Summary");
        assert_eq!(quote_sheet("Benchmark 1"), "'Benchmark 1'");
        assert_eq!(quote_sheet("Bob's"), "'Bob''s'");
        assert_eq!(absolute_ref("K351"), "$K$351");
    }
}
