//! What a workbook costs to write with rust_xlsxwriter, apart from the pages that write them
//! (bench/README.md, the exports' measured cause): an empty workbook, and 350 and 2,000 rows of
//! 12 text cells, 50 times each, at each zip level from 1 to 9 (the crate's default is 6; the
//! service writes at `prevent_assure::workbook::ZIP_LEVEL`). Run under `perf record -g` to see
//! where the time goes (at level 6 about half is zlib-rs's deflate).
//!
//! ```sh
//! cargo build --release --example xlsx_cost && perf record -g target/release/examples/xlsx_cost
//! ```

use std::time::Instant;
fn main() {
    // The levels to measure, as arguments (`xlsx_cost 1 6`); all nine without.
    let mut levels: Vec<u8> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    if levels.is_empty() {
        levels = (1..=9).collect();
    }
    for level in levels {
        println!("zip level {level}");
        one_level(level);
    }
}

fn one_level(level: u8) {
    for rows in [0u32, 350, 2000] {
        let t = Instant::now();
        let n = 50;
        let mut size = 0;
        for _ in 0..n {
            let mut wb = rust_xlsxwriter::Workbook::new();
            wb.set_zip_compression_level(level);
            let ws = wb.add_worksheet();
            for r in 0..rows {
                for c in 0..12u16 {
                    ws.write_string(r, c, format!("cell {r} {c} some text here"))
                        .unwrap();
                }
            }
            size = wb.save_to_buffer().unwrap().len();
        }
        println!(
            "  rows {rows}: {:?} per workbook, {size} bytes",
            t.elapsed() / n
        );
    }
}
