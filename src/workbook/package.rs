//! The zip that holds a workbook's parts, written here rather than by the zip crate: every part
//! is whole in memory before it is added, so each is deflated in one call straight into the
//! file, its header written once with its checksum and sizes, by one compressor per thread kept
//! from one workbook to the next. The zip crate set up and cleared a compressor of its own for
//! every part (a quarter of a megabyte each, eleven of them for an assessment) and copied each
//! part through its buffers: a fifth of the server's CPU for an assessment's workbook, with
//! deflate itself another third (bench/README.md). Only what a workbook needs: no zip64 (a
//! workbook is tens of kilobytes), no comments, no extra fields; names are ASCII.

use std::cell::RefCell;

use flate2::{Compress, Compression, FlushCompress, Status};

use super::xlsx::XlsxError;

/// 1980-01-01 00:00, the zip format's earliest time, as Excel's own files and the zip crate
/// give every part: a workbook's bytes depend on its contents alone.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;

/// How a part is kept in the zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// As it is: the parts of a few hundred bytes, where deflating saves next to nothing.
    Stored,
    /// Deflated at the package's level.
    Deflated,
}

struct Entry {
    name: String,
    method: Method,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
}

thread_local! {
    /// One raw-deflate compressor per thread and level, reset between parts instead of made
    /// anew: making one allocates and clears its window and hash tables.
    static COMPRESSOR: RefCell<Option<(u32, Compress)>> = const { RefCell::new(None) };
}

/// A zip being written into memory, part by part.
pub struct Package {
    out: Vec<u8>,
    entries: Vec<Entry>,
    level: u32,
}

impl Package {
    /// An empty package whose deflated parts use `level` (0-9), with room for `capacity`
    /// bytes before it grows.
    pub fn new(level: u32, capacity: usize) -> Package {
        Package {
            out: Vec::with_capacity(capacity),
            entries: Vec::new(),
            level: level.min(9),
        }
    }

    /// Adds a part named `name` holding `data`.
    pub fn add(&mut self, name: &str, data: &[u8], method: Method) -> Result<(), XlsxError> {
        let size = u32::try_from(data.len()).map_err(|_| too_big())?;
        let offset = u32::try_from(self.out.len()).map_err(|_| too_big())?;
        let crc = crc32fast::hash(data);
        let method_code: u16 = match method {
            Method::Stored => 0,
            Method::Deflated => 8,
        };
        let out = &mut self.out;
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&method_code.to_le_bytes());
        out.extend_from_slice(&DOS_TIME.to_le_bytes());
        out.extend_from_slice(&DOS_DATE.to_le_bytes());
        out.extend_from_slice(&crc.to_le_bytes());
        // The compressed size is known once the part is deflated: written over these 4 bytes.
        let compressed_at = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&name_len(name)?.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // no extra field
        out.extend_from_slice(name.as_bytes());
        let start = out.len();
        match method {
            Method::Stored => out.extend_from_slice(data),
            Method::Deflated => deflate(self.level, data, out)?,
        }
        let compressed = u32::try_from(out.len() - start).map_err(|_| too_big())?;
        out[compressed_at..compressed_at + 4].copy_from_slice(&compressed.to_le_bytes());
        self.entries.push(Entry {
            name: name.to_owned(),
            method,
            crc,
            compressed,
            size,
            offset,
        });
        Ok(())
    }

    /// The zip's bytes: the parts, then the central directory that lists them.
    pub fn finish(mut self) -> Result<Vec<u8>, XlsxError> {
        let directory_at = u32::try_from(self.out.len()).map_err(|_| too_big())?;
        let out = &mut self.out;
        for e in &self.entries {
            let method_code: u16 = match e.method {
                Method::Stored => 0,
                Method::Deflated => 8,
            };
            out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
            out.extend_from_slice(&20u16.to_le_bytes()); // made by: 2.0, MS-DOS attributes
            out.extend_from_slice(&20u16.to_le_bytes()); // version needed: 2.0
            out.extend_from_slice(&0u16.to_le_bytes()); // flags
            out.extend_from_slice(&method_code.to_le_bytes());
            out.extend_from_slice(&DOS_TIME.to_le_bytes());
            out.extend_from_slice(&DOS_DATE.to_le_bytes());
            out.extend_from_slice(&e.crc.to_le_bytes());
            out.extend_from_slice(&e.compressed.to_le_bytes());
            out.extend_from_slice(&e.size.to_le_bytes());
            out.extend_from_slice(&name_len(&e.name)?.to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes()); // extra field
            out.extend_from_slice(&0u16.to_le_bytes()); // comment
            out.extend_from_slice(&0u16.to_le_bytes()); // disk
            out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
            out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
            out.extend_from_slice(&e.offset.to_le_bytes());
            out.extend_from_slice(e.name.as_bytes());
        }
        let directory_size = u32::try_from(out.len()).map_err(|_| too_big())? - directory_at;
        let count = u16::try_from(self.entries.len()).map_err(|_| too_big())?;
        out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // this disk
        out.extend_from_slice(&0u16.to_le_bytes()); // the directory's disk
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&directory_size.to_le_bytes());
        out.extend_from_slice(&directory_at.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // comment
        Ok(self.out)
    }
}

fn too_big() -> XlsxError {
    XlsxError::new("the workbook is too large for a zip without zip64")
}

fn name_len(name: &str) -> Result<u16, XlsxError> {
    u16::try_from(name.len()).map_err(|_| too_big())
}

/// `data` deflated (raw, as a zip holds it) at `level`, appended to `out`.
fn deflate(level: u32, data: &[u8], out: &mut Vec<u8>) -> Result<(), XlsxError> {
    COMPRESSOR.with(|cell| {
        let mut kept = cell.borrow_mut();
        match kept.as_mut() {
            Some((l, c)) if *l == level => c.reset(),
            _ => *kept = Some((level, Compress::new(Compression::new(level), false))),
        }
        let (_, compressor) = kept.as_mut().expect("set just now");
        let before = compressor.total_in();
        loop {
            let done = usize::try_from(compressor.total_in() - before).unwrap_or(usize::MAX);
            // Room for what is left, as deflate's worst case bounds it, so that a part is
            // usually done in one call.
            let left = data.len().saturating_sub(done);
            out.reserve(left + left / 1000 + 64);
            let status = compressor
                .compress_vec(&data[done.min(data.len())..], out, FlushCompress::Finish)
                .map_err(|e| XlsxError::new(format!("deflate: {e}")))?;
            if status == Status::StreamEnd {
                return Ok(());
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Read};

    use super::*;

    /// What the zip crate reads back is what went in, stored or deflated, at any level, a
    /// compressor kept from one package to the next.
    #[test]
    fn parts_read_back_as_written() {
        let big: String = (0..5000)
            .map(|i| format!("<c r=\"A{i}\"><v>{}</v></c>", i * 7919 % 1000))
            .collect();
        let incompressible: Vec<u8> = (0..70_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for level in [1, 6, 0] {
            let mut p = Package::new(level, 16);
            p.add("[Content_Types].xml", b"<Types/>", Method::Stored)
                .unwrap();
            p.add("xl/worksheets/sheet1.xml", big.as_bytes(), Method::Deflated)
                .unwrap();
            p.add("empty.xml", b"", Method::Deflated).unwrap();
            p.add("media/noise.bin", &incompressible, Method::Deflated)
                .unwrap();
            let bytes = p.finish().unwrap();
            let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).expect("a zip");
            assert_eq!(zip.len(), 4);
            let mut read = |name: &str| {
                let mut f = zip.by_name(name).expect(name);
                let mut v = Vec::new();
                f.read_to_end(&mut v).expect("inflated, checksum right");
                v
            };
            assert_eq!(read("[Content_Types].xml"), b"<Types/>");
            assert_eq!(read("xl/worksheets/sheet1.xml"), big.as_bytes());
            assert_eq!(read("empty.xml"), b"");
            assert_eq!(read("media/noise.bin"), incompressible);
        }
    }
}
