//! What a workbook costs to write with rust_xlsxwriter, apart from the pages that write them
//! (bench/README.md, the exports' measured cause): an empty workbook, and 350 and 2,000 rows of
//! 12 text cells, 50 times each. Run under `perf record -g` to see where the time goes (about
//! half in zlib-rs's deflate at the crate's fixed level).
//!
//! ```sh
//! cargo build --release --example xlsx_cost && perf record -g target/release/examples/xlsx_cost
//! ```

use std::time::Instant;
fn main() {
    for rows in [0u32, 350, 2000] {
        let t = Instant::now();
        let n = 50;
        let mut size = 0;
        for _ in 0..n {
            let mut wb = rust_xlsxwriter::Workbook::new();
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
            "rows {rows}: {:?} per workbook, {size} bytes",
            t.elapsed() / n
        );
    }
}
