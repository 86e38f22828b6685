//! Turning a file of unknown encoding and shape into rows of text.
//!
//! The csv crate needs UTF-8 and never reports bad quoting, so rolo parses
//! CSV on raw bytes (the delimiters and quotes are ASCII, and neither UTF-8
//! nor GBK/GB18030 ever uses those bytes inside a multi-byte character),
//! decodes each field strictly, and checks every record for the signature of
//! an unclosed quote. A row that cannot be read faithfully carries a
//! `problem` and goes to the rejects file; nothing is dropped silently.

use encoding_rs::{Encoding as Enc, GB18030, UTF_8};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::str::FromStr;
use std::sync::Arc;

/// The text encoding of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Detect: a BOM, else UTF-8 if the bytes are valid UTF-8, else GB18030 (a superset of GBK).
    #[default]
    Auto,
    Utf8,
    Gbk,
}

impl FromStr for Encoding {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().replace('_', "-").as_str() {
            "auto" => Ok(Encoding::Auto),
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" | "cp936" => Ok(Encoding::Gbk),
            other => Err(format!(
                "unknown encoding '{other}'; use auto, utf-8 or gbk"
            )),
        }
    }
}

/// The shape of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// JSON if the first non-blank character is `[` or `{`, else CSV.
    #[default]
    Auto,
    Csv,
    Json,
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Format::Auto),
            "csv" | "tsv" | "txt" => Ok(Format::Csv),
            "json" | "jsonl" | "ndjson" => Ok(Format::Json),
            other => Err(format!("unknown format '{other}'; use auto, csv or json")),
        }
    }
}

/// One row read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    /// The physical line (1-based) the row starts on, or the record number in JSON.
    pub line: u64,
    /// The values, aligned with the headers (missing trailing values are empty).
    pub fields: Vec<String>,
    /// Why the row cannot be read faithfully; such a row is rejected.
    pub problem: Option<String>,
}

/// A parsed input file: its headers and its rows.
#[derive(Debug)]
pub struct Source {
    pub headers: Vec<String>,
    /// The encoding that was used, for the report.
    pub encoding: &'static str,
    /// `Some(delimiter)` for CSV.
    pub delimiter: Option<u8>,
    pub rows: Vec<SourceRow>,
}

/// Why a whole file could not be read (as opposed to single bad rows).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("the file is empty")]
    Empty,
    #[error("the file has no header row")]
    NoHeader,
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Json {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("JSON input must be an array of objects or one object per line (JSON Lines)")]
    JsonShape,
}

/// The longest value accepted in one field; longer values reject their row.
pub const MAX_FIELD_BYTES: usize = 64 * 1024;

/// A file being read: its headers now, its rows one at a time.
pub struct Stream {
    pub headers: Vec<String>,
    /// The encoding that was used, for the report.
    pub encoding: &'static str,
    /// `Some(delimiter)` for CSV.
    pub delimiter: Option<u8>,
    /// About how many rows follow (for progress); exact for JSON.
    pub approx_rows: u64,
    pub rows: Box<dyn Iterator<Item = SourceRow> + Send>,
}

/// Reads `bytes` (a whole file) into rows, all at once.
pub fn read(bytes: &[u8], encoding: Encoding, format: Format) -> Result<Source, ReadError> {
    let stream = open(bytes.to_vec(), encoding, format)?;
    Ok(Source {
        headers: stream.headers,
        encoding: stream.encoding,
        delimiter: stream.delimiter,
        rows: stream.rows.collect(),
    })
}

/// Opens a whole file's bytes for reading row by row.
pub fn open(bytes: Vec<u8>, encoding: Encoding, format: Format) -> Result<Stream, ReadError> {
    let (enc, bom) = choose_encoding(&bytes, encoding);
    // UTF-16 files (Excel's "Unicode text") are decoded up front: their
    // delimiters are not single bytes.
    let (enc, body) = if enc == encoding_rs::UTF_16LE || enc == encoding_rs::UTF_16BE {
        let wide = enc
            .decode_without_bom_handling(&bytes[bom..])
            .0
            .into_owned()
            .into_bytes();
        (
            UTF_8,
            Shared {
                data: Arc::new(wide),
                start: 0,
            },
        )
    } else {
        (
            enc,
            Shared {
                data: Arc::new(bytes),
                start: bom,
            },
        )
    };
    let text = body.as_ref();
    let Some(&first) = text.iter().find(|b| !b.is_ascii_whitespace()) else {
        return Err(ReadError::Empty);
    };
    let is_json = match format {
        Format::Json => true,
        Format::Csv => false,
        Format::Auto => first == b'[' || first == b'{',
    };
    let name = if enc == UTF_8 { "utf-8" } else { "gbk" };
    if is_json {
        let text = decode_field(enc, text).map_err(|_| ReadError::JsonShape)?;
        let (headers, rows) = read_json(&text)?;
        Ok(Stream {
            headers,
            encoding: name,
            delimiter: None,
            approx_rows: rows.len() as u64,
            rows: Box::new(rows.into_iter()),
        })
    } else {
        let delimiter = sniff_delimiter(text);
        let approx_rows = memchr::memchr_iter(b'\n', text).count().saturating_sub(1) as u64;
        let (headers, rows) = CsvRows::new(body, enc, delimiter)?;
        Ok(Stream {
            headers,
            encoding: name,
            delimiter: Some(delimiter),
            approx_rows,
            rows: Box::new(rows),
        })
    }
}

/// Picks the encoding; returns it with the length of the BOM to skip.
fn choose_encoding(bytes: &[u8], wanted: Encoding) -> (&'static Enc, usize) {
    if let Some((enc, bom)) = Enc::for_bom(bytes) {
        if wanted == Encoding::Auto || (wanted == Encoding::Utf8 && enc == UTF_8) {
            return (enc, bom);
        }
    }
    match wanted {
        Encoding::Utf8 => (UTF_8, 0),
        Encoding::Gbk => (GB18030, 0),
        Encoding::Auto => {
            if std::str::from_utf8(bytes).is_ok() {
                return (UTF_8, 0);
            }
            if GB18030
                .decode_without_bom_handling_and_without_replacement(bytes)
                .is_some()
            {
                return (GB18030, 0);
            }
            // Neither decodes cleanly: take the one with fewer bad lines;
            // the bad rows are rejected one by one.
            let bad = |enc: &'static Enc| {
                bytes
                    .split(|b| *b == b'\n')
                    .filter(|l| {
                        enc.decode_without_bom_handling_and_without_replacement(l)
                            .is_none()
                    })
                    .count()
            };
            if bad(GB18030) < bad(UTF_8) {
                (GB18030, 0)
            } else {
                (UTF_8, 0)
            }
        }
    }
}

/// Decodes one field strictly; `Err` carries a lossy rendering for the rejects file.
fn decode_field(enc: &'static Enc, bytes: &[u8]) -> Result<String, String> {
    if enc == UTF_8 {
        return match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(String::from_utf8_lossy(bytes).into_owned()),
        };
    }
    match enc.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(Cow::Borrowed(s)) => Ok(s.to_owned()),
        Some(Cow::Owned(s)) => Ok(s),
        None => Err(enc.decode_without_bom_handling(bytes).0.into_owned()),
    }
}

/// The delimiter that splits the header line into the most columns, of
/// comma, tab, semicolon and pipe (quoted text is skipped).
pub fn sniff_delimiter(body: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b'\t', 0), (b';', 0), (b'|', 0)];
    let mut in_quotes = false;
    for &b in body.iter().take(64 * 1024) {
        match b {
            b'"' => in_quotes = !in_quotes,
            b'\n' if !in_quotes => break,
            _ if !in_quotes => {
                for (d, n) in counts.iter_mut() {
                    if *d == b {
                        *n += 1;
                    }
                }
            }
            _ => {}
        }
    }
    // Ties go to the earlier (more common) delimiter.
    let mut best = counts[0];
    for c in counts {
        if c.1 > best.1 {
            best = c;
        }
    }
    best.0
}

fn csv_reader(bytes: &[u8], delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes)
}

/// The bytes of a file shared between the reader and the line counter.
#[derive(Clone)]
struct Shared {
    data: Arc<Vec<u8>>,
    start: usize,
}

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        self.data.get(self.start..).unwrap_or_default()
    }
}

/// Rows of a CSV file, read one at a time (so a million-row file never
/// exists as a million parsed rows).
struct CsvRows {
    reader: csv::Reader<std::io::Cursor<Shared>>,
    body: Shared,
    enc: &'static Enc,
    delimiter: u8,
    width: usize,
    record: csv::ByteRecord,
    // Rows recovered from a record that swallowed lines after an unclosed quote.
    pending: VecDeque<(u64, csv::ByteRecord)>,
    // csv's own line numbers drift on CRLF files: count newlines ourselves.
    lines: LineCounter,
}

impl CsvRows {
    fn new(
        body: Shared,
        enc: &'static Enc,
        delimiter: u8,
    ) -> Result<(Vec<String>, CsvRows), ReadError> {
        let reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::Cursor::new(body.clone()));
        let mut rows = CsvRows {
            reader,
            body,
            enc,
            delimiter,
            width: 0,
            record: csv::ByteRecord::new(),
            pending: VecDeque::new(),
            lines: LineCounter::default(),
        };
        let headers = match rows.next_record() {
            Some(Ok((_, rec))) => rec
                .iter()
                .map(|f| {
                    let text = decode_field(enc, f).unwrap_or_else(|lossy| lossy);
                    text.trim_start_matches('\u{feff}').trim().to_owned()
                })
                .collect::<Vec<_>>(),
            _ => return Err(ReadError::NoHeader),
        };
        if headers.iter().all(String::is_empty) {
            return Err(ReadError::NoHeader);
        }
        rows.width = headers.len();
        Ok((headers, rows))
    }

    /// The next physical record with its line, or an unreadable row.
    fn next_record(&mut self) -> Option<Result<(u64, csv::ByteRecord), SourceRow>> {
        if let Some(p) = self.pending.pop_front() {
            return Some(Ok(p));
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                // The csv crate only errors on I/O or UTF-8, neither of
                // which applies to in-memory bytes; record and go on.
                let line = e.position().map_or(0, |p| p.line());
                return Some(Err(SourceRow {
                    line,
                    fields: Vec::new(),
                    problem: Some(format!("unreadable row: {e}")),
                }));
            }
        }
        let byte = self.record.position().map_or(0, |p| p.byte());
        let line = self.lines.line_at(self.body.as_ref(), byte);
        Some(Ok((line, self.record.clone())))
    }
}

impl Iterator for CsvRows {
    type Item = SourceRow;

    fn next(&mut self) -> Option<SourceRow> {
        loop {
            let (line, rec) = match self.next_record()? {
                Ok(r) => r,
                Err(bad) => return Some(bad),
            };
            if rec.len() == 1
                && rec
                    .get(0)
                    .is_some_and(|f| f.iter().all(u8::is_ascii_whitespace))
            {
                continue; // a blank line
            }
            if let Some((first, rest)) = swallowed_rows(&rec, self.delimiter, self.width) {
                let mut sub = csv_reader(&rest, self.delimiter);
                let mut r = csv::ByteRecord::new();
                let mut recovered = Vec::new();
                let mut sub_lines = LineCounter::default();
                while let Ok(true) = sub.read_byte_record(&mut r) {
                    let l = line + sub_lines.line_at(&rest, r.position().map_or(0, |p| p.byte()));
                    recovered.push((l, r.clone()));
                }
                for item in recovered.into_iter().rev() {
                    self.pending.push_front(item);
                }
                return Some(SourceRow {
                    line,
                    fields: first,
                    problem: Some(format!(
                        "unclosed quote on line {line}: the field runs into the following lines; fix the quoting of this row"
                    )),
                });
            }
            return Some(decode_row(&rec, self.enc, self.width, line));
        }
    }
}

/// Turns increasing byte offsets into 1-based line numbers.
#[derive(Default)]
struct LineCounter {
    byte: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, body: &[u8], byte: u64) -> u64 {
        let mut byte = usize::try_from(byte).unwrap_or(usize::MAX).min(body.len());
        // After a CRLF, csv reports the record as starting at the LF.
        if body.get(byte) == Some(&b'\n') {
            byte += 1;
        }
        if byte >= self.byte {
            self.newlines += memchr::memchr_iter(b'\n', &body[self.byte..byte]).count() as u64;
            self.byte = byte;
        }
        self.newlines + 1
    }
}

fn decode_row(rec: &csv::ByteRecord, enc: &'static Enc, width: usize, line: u64) -> SourceRow {
    let mut fields = Vec::with_capacity(width.max(rec.len()));
    let mut problem = None;
    for (i, f) in rec.iter().enumerate() {
        match decode_field(enc, f) {
            Ok(s) => fields.push(s),
            Err(lossy) => {
                problem.get_or_insert_with(|| {
                    format!(
                        "column {} holds bytes that are not valid {}; re-save the file as UTF-8 or pass --encoding",
                        i + 1,
                        if enc == UTF_8 { "UTF-8" } else { "GBK" }
                    )
                });
                fields.push(lossy);
            }
        }
        if f.len() > MAX_FIELD_BYTES && problem.is_none() {
            problem = Some(format!(
                "column {} is {} KB long (the limit is {} KB)",
                i + 1,
                f.len() / 1024,
                MAX_FIELD_BYTES / 1024
            ));
        }
    }
    if fields.len() > width && problem.is_none() {
        let extra = &fields[width..];
        if extra.iter().any(|f| !f.trim().is_empty()) {
            problem = Some(format!(
                "row has {} fields but the header has {width}: an unquoted delimiter inside a value? quote that value",
                fields.len()
            ));
        }
    }
    fields.resize(width.max(fields.len()), String::new());
    if problem.is_none() {
        fields.truncate(width);
    }
    SourceRow {
        line,
        fields,
        problem,
    }
}

/// Detects a record whose field swallowed following rows after an unclosed
/// quote: a field holding a newline followed by text that itself looks like
/// a row (enough delimiters). Returns the first physical line's fields and the
/// raw bytes of the swallowed lines, to be read again as rows.
fn swallowed_rows(
    rec: &csv::ByteRecord,
    delimiter: u8,
    width: usize,
) -> Option<(Vec<String>, Vec<u8>)> {
    // A record with exactly the header's width closed its quotes where the
    // header expects: a legitimate multi-line value, even with delimiters.
    if rec.len() == width {
        return None;
    }
    let needed = (width / 2).max(2);
    for (i, f) in rec.iter().enumerate() {
        let Some(nl) = f.iter().position(|b| *b == b'\n') else {
            continue;
        };
        let tail = &f[nl + 1..];
        let looks_like_rows = tail
            .split(|b| *b == b'\n')
            .any(|l| l.iter().filter(|b| **b == delimiter).count() >= needed);
        if !looks_like_rows {
            continue;
        }
        let mut first: Vec<String> = rec
            .iter()
            .take(i)
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        first.push(
            String::from_utf8_lossy(&f[..nl])
                .trim_end_matches('\r')
                .to_owned(),
        );
        // The fields after the bad one belong to the last swallowed line.
        let mut rest = tail.to_vec();
        for after in rec.iter().skip(i + 1) {
            rest.push(delimiter);
            rest.extend_from_slice(after);
        }
        return Some((first, rest));
    }
    None
}

/// One JSON record: the object, or why it is not one.
type JsonRecord = Result<serde_json::Map<String, serde_json::Value>, String>;

/// Reads a JSON array of objects, or JSON Lines (one object per line).
fn read_json(text: &str) -> Result<(Vec<String>, Vec<SourceRow>), ReadError> {
    let trimmed = text.trim_start();
    let mut objects: Vec<(u64, JsonRecord)> = Vec::new();
    if trimmed.starts_with('[') {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| ReadError::Json {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        let serde_json::Value::Array(items) = value else {
            return Err(ReadError::JsonShape);
        };
        for (i, item) in items.into_iter().enumerate() {
            let n = i as u64 + 1;
            match item {
                serde_json::Value::Object(m) => objects.push((n, Ok(m))),
                other => objects.push((
                    n,
                    Err(format!(
                        "record {n} is not an object: {}",
                        short(&other.to_string())
                    )),
                )),
            }
        }
    } else {
        for (i, line) in text.lines().enumerate() {
            let n = i as u64 + 1;
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(serde_json::Value::Object(m)) => objects.push((n, Ok(m))),
                Ok(_) => objects.push((n, Err(format!("line {n} is not a JSON object")))),
                Err(e) => objects.push((n, Err(format!("line {n} is not valid JSON: {e}")))),
            }
        }
    }
    let mut headers: Vec<String> = Vec::new();
    for (_, o) in &objects {
        if let Ok(m) = o {
            for k in m.keys() {
                if !headers.contains(k) {
                    headers.push(k.clone());
                }
            }
        }
    }
    if headers.is_empty() && objects.iter().all(|(_, o)| o.is_ok()) {
        return Err(ReadError::NoHeader);
    }
    let rows = objects
        .into_iter()
        .map(|(line, o)| match o {
            Ok(m) => {
                let fields = headers
                    .iter()
                    .map(|h| m.get(h).map(json_text).unwrap_or_default())
                    .collect();
                SourceRow {
                    line,
                    fields,
                    problem: None,
                }
            }
            Err(problem) => SourceRow {
                line,
                fields: vec![String::new(); headers.len()],
                problem: Some(problem),
            },
        })
        .collect();
    Ok((headers, rows))
}

fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &[u8]) -> Source {
        read(text, Encoding::Auto, Format::Auto).unwrap()
    }

    #[test]
    fn utf8_bom_crlf_and_quoted_newlines() {
        let s = csv(b"\xef\xbb\xbfname,city\r\n\"Li, Lei\",\"Shang\nhai\"\r\nAnn,Paris\r\n");
        assert_eq!(s.headers, ["name", "city"]);
        assert_eq!(s.rows.len(), 2);
        assert_eq!(s.rows[0].fields, ["Li, Lei", "Shang\nhai"]);
        assert_eq!(s.rows[1].line, 4);
        assert!(s.rows.iter().all(|r| r.problem.is_none()));
    }

    #[test]
    fn sniffs_tab_and_semicolon() {
        assert_eq!(csv(b"a\tb\tc\n1\t2\t3\n").delimiter, Some(b'\t'));
        assert_eq!(csv(b"a;b;c\n1;2,5;3\n").rows[0].fields, ["1", "2,5", "3"]);
    }

    #[test]
    fn gbk_is_detected_and_equals_utf8() {
        let utf8 = "姓名,城市\n张伟,上海\n".as_bytes();
        let (gbk, _, _) = GB18030.encode("姓名,城市\n张伟,上海\n");
        let a = csv(utf8);
        let b = csv(&gbk);
        assert_eq!(b.encoding, "gbk");
        assert_eq!(a.headers, b.headers);
        assert_eq!(a.rows, b.rows);
    }

    #[test]
    fn undecodable_bytes_reject_only_their_row() {
        let s = read(b"name\nAnn\nB\xffob\n", Encoding::Utf8, Format::Auto).unwrap();
        assert!(s.rows[0].problem.is_none());
        assert!(
            s.rows[1]
                .problem
                .as_deref()
                .unwrap()
                .contains("not valid UTF-8")
        );
    }

    #[test]
    fn unclosed_quote_rejects_one_row_and_recovers_the_rest() {
        let s = csv(b"id,name,city\n1,\"Ann,Paris\n2,Bob,Rome\n3,Cy,Oslo\n");
        assert_eq!(s.rows.len(), 3, "{:?}", s.rows);
        assert!(
            s.rows[0]
                .problem
                .as_deref()
                .unwrap()
                .contains("unclosed quote")
        );
        assert_eq!(s.rows[1].fields, ["2", "Bob", "Rome"]);
        assert_eq!(s.rows[1].line, 3);
        assert_eq!(s.rows[2].fields, ["3", "Cy", "Oslo"]);
    }

    #[test]
    fn ragged_rows() {
        let s = csv(b"a,b,c\n1,2\n1,2,3,4\n1,2,3,\n");
        assert_eq!(s.rows[0].fields, ["1", "2", ""]);
        assert!(s.rows[0].problem.is_none());
        assert!(s.rows[1].problem.as_deref().unwrap().contains("4 fields"));
        assert!(s.rows[2].problem.is_none());
    }

    #[test]
    fn json_array_and_lines() {
        let s = read(
            br#"[{"name":"Ann","age":3},{"name":"Bo","city":null}]"#,
            Encoding::Auto,
            Format::Auto,
        )
        .unwrap();
        assert_eq!(s.headers, ["name", "age", "city"]);
        assert_eq!(s.rows[0].fields, ["Ann", "3", ""]);
        let s = read(
            b"{\"name\":\"Ann\"}\nnot json\n{\"name\":\"Bo\"}\n",
            Encoding::Auto,
            Format::Auto,
        )
        .unwrap();
        assert_eq!(s.rows.len(), 3);
        assert!(s.rows[1].problem.is_some());
        assert!(matches!(
            read(b"[{\"a\":", Encoding::Auto, Format::Auto),
            Err(ReadError::Json { .. })
        ));
    }

    #[test]
    fn utf16_excel_export() {
        let mut bytes = vec![0xff, 0xfe];
        for u in "name\tcity\r\nAnn\t北京\r\n".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let s = csv(&bytes);
        assert_eq!(s.rows[0].fields, ["Ann", "北京"]);
    }

    #[test]
    fn empty_and_headerless() {
        assert_eq!(
            read(b"  \n", Encoding::Auto, Format::Auto).unwrap_err(),
            ReadError::Empty
        );
    }
}
