//! Shared helpers of the black-box CLI tests: running the real `rolo`
//! binary against a private temporary database, reading its one JSON
//! document, and the hostile import fixtures (tests/fixtures/hostile/).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use tempfile::TempDir;

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_rolo"))
}

/// `rolo` with a clean environment: no colours, no `$ROLO_DB`.
pub fn rolo() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::new(bin());
    c.env("NO_COLOR", "1")
        .env_remove("ROLO_DB")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    c
}

/// The same, as a std command (for spawning and killing children).
pub fn rolo_std() -> std::process::Command {
    let mut c = std::process::Command::new(bin());
    c.env("NO_COLOR", "1")
        .env_remove("ROLO_DB")
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE");
    c
}

/// The folder of the committed fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Fails if stderr shows a panic or a backtrace.
pub fn assert_no_panic(out: &Output) {
    let err = String::from_utf8_lossy(&out.stderr);
    for bad in [
        "panicked",
        "stack backtrace",
        "RUST_BACKTRACE",
        "internal error",
    ] {
        assert!(!err.contains(bad), "stderr shows `{bad}`:\n{err}");
    }
}

/// Parses stdout as exactly one JSON document (and nothing else).
pub fn single_json(stdout: &[u8]) -> Value {
    let text = std::str::from_utf8(stdout).expect("stdout is UTF-8");
    let docs: Vec<Value> = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"));
    assert_eq!(
        docs.len(),
        1,
        "expected one JSON document on stdout:\n{text}"
    );
    docs.into_iter().next().unwrap()
}

/// Text of a process's stderr.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temporary folder with a database path inside it.
pub struct Env {
    pub dir: TempDir,
    pub db: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        Env { dir, db }
    }

    /// A path inside the temporary folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file into the temporary folder.
    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// Copies a committed fixture into the temporary folder (so the rejects
    /// file lands there, not in the source tree).
    pub fn copy_fixture(&self, rel: &str) -> PathBuf {
        let src = fixtures().join(rel);
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        let dst = self.path(name);
        std::fs::copy(&src, &dst)
            .unwrap_or_else(|e| panic!("copying fixture {}: {e}", src.display()));
        dst
    }

    /// Runs `rolo ARGS --db DB`.
    pub fn run(&self, args: &[&str]) -> Output {
        let out = rolo()
            .args(args)
            .arg("--db")
            .arg(&self.db)
            .output()
            .unwrap();
        assert_no_panic(&out);
        out
    }

    /// Runs `rolo ARGS --db DB --json`, requires success and returns the one JSON document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut full: Vec<&str> = args.to_vec();
        full.push("--json");
        let out = self.run(&full);
        assert!(
            out.status.success(),
            "rolo {full:?} failed ({:?}): {}",
            out.status,
            stderr(&out)
        );
        single_json(&out.stdout)
    }

    /// Runs `rolo ARGS`, requires a usage or input error (exit 2) told in
    /// one line on stderr, and returns that line.
    pub fn user_error(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "rolo {args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "rolo {args:?}: {err}");
        err
    }

    /// `rolo import KIND FILE --json`, checking read = inserted + updated + rejected.
    pub fn import(&self, kind: &str, file: &Path) -> Value {
        let r = self.json(&["import", kind, file.to_str().unwrap()]);
        assert_counts_add_up(&r);
        r
    }

    /// `rolo import customers FILE EXTRA... --json`.
    pub fn import_with(&self, file: &Path, extra: &[&str]) -> Value {
        let mut args = vec!["import", "customers", file.to_str().unwrap()];
        args.extend_from_slice(extra);
        let r = self.json(&args);
        assert_counts_add_up(&r);
        r
    }

    /// `rolo import KIND FILE EXTRA... --json`, checking the counts add up.
    pub fn import_kind_with(&self, kind: &str, file: &Path, extra: &[&str]) -> Value {
        let mut args = vec!["import", kind, file.to_str().unwrap()];
        args.extend_from_slice(extra);
        let r = self.json(&args);
        assert_counts_add_up(&r);
        r
    }

    /// `rolo export customers --format json` as a list of objects.
    pub fn export(&self) -> Vec<Value> {
        let out = self.run(&["export", "customers", "--format", "json"]);
        assert!(out.status.success(), "export failed: {}", stderr(&out));
        match serde_json::from_slice(&out.stdout).expect("export is JSON") {
            Value::Array(v) => v,
            other => panic!("export is not an array: {other}"),
        }
    }

    /// The export keyed by ext_id (every record must have one).
    pub fn export_by_ext_id(&self) -> BTreeMap<String, Value> {
        self.export()
            .into_iter()
            .map(|c| {
                let ext = c["ext_id"]
                    .as_str()
                    .expect("record has an ext_id")
                    .to_owned();
                (ext, c)
            })
            .collect()
    }

    /// `rolo export customers` (CSV) as text.
    pub fn export_csv(&self) -> String {
        let out = self.run(&["export", "customers", "--format", "csv"]);
        assert!(out.status.success(), "export failed: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// `rolo search --limit N --json -- Q` (after `--`, so a query may start with `-`).
    pub fn search(&self, q: &str, limit: usize) -> Value {
        let out = rolo()
            .args(["search", "--limit", &limit.to_string(), "--json", "--db"])
            .arg(&self.db)
            .args(["--", q])
            .output()
            .unwrap();
        assert_no_panic(&out);
        assert!(
            out.status.success(),
            "rolo search {q:?} failed ({:?}): {}",
            out.status,
            stderr(&out)
        );
        single_json(&out.stdout)
    }

    /// The `total` of `rolo search Q`.
    pub fn total(&self, q: &str) -> u64 {
        self.search(q, 1)["total"].as_u64().expect("total")
    }

    /// `rolo gen ... -o DIR` into a subfolder; returns the folder.
    pub fn generate(&self, name: &str, args: &[&str]) -> PathBuf {
        let out_dir = self.path(name);
        let out = rolo()
            .arg("gen")
            .args(args)
            .arg("-o")
            .arg(&out_dir)
            .output()
            .unwrap();
        assert_no_panic(&out);
        assert!(out.status.success(), "gen failed: {}", stderr(&out));
        out_dir
    }
}

/// read = inserted + updated + rejected.
pub fn assert_counts_add_up(r: &Value) {
    let n = |k: &str| {
        r[k].as_u64()
            .unwrap_or_else(|| panic!("report lacks {k}: {r}"))
    };
    assert_eq!(
        n("read"),
        n("inserted") + n("updated") + n("rejected"),
        "read != inserted + updated + rejected: {r}"
    );
}

/// The rejects CSV: its header and its data rows.
pub fn read_rejects(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("reading rejects {}: {e}", path.display()));
    let headers = rd.headers().unwrap().clone();
    let rows = rd.records().collect::<Result<Vec<_>, _>>().unwrap();
    (headers, rows)
}

/// Integer minor units of a plain decimal amount ("271.90" -> 27190).
pub fn cents(s: &str) -> i64 {
    let s = s.trim().replace(',', "");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut frac = frac.to_owned();
    assert!(frac.len() <= 2, "amount {s} has more than 2 decimals");
    while frac.len() < 2 {
        frac.push('0');
    }
    let sign = if int.starts_with('-') { -1 } else { 1 };
    let int: i64 = int.trim_start_matches('-').parse().unwrap();
    sign * (int * 100 + frac.parse::<i64>().unwrap())
}

/// Reads a CSV file into (header, rows as maps).
pub fn read_csv_maps(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_path(path).unwrap();
    let headers = rd.headers().unwrap().clone();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Hostile fixtures

/// The Chinese-header file, as text: written GBK-encoded as
/// `hostile/gbk_chinese_headers.csv`; the UTF-8/GBK equivalence test encodes
/// it both ways.
pub const CHINESE_HEADERS_TEXT: &str = "姓名,手机,邮箱,城市,注册日期\n\
张伟,13800138000,ZhangWei@Example.com,上海,2024-03-05\n\
李娜,139-0013-9000,lina@example.cn,北京,2024/3/5\n\
王芳,+86 137 0013 7000,,广州,2024年3月5日\n\
赵磊,,zhaolei@example.com,深圳市,20240305\n\
欧阳娜娜,(010) 6212-3456,ouyang@example.com,北京,\n";

/// Every hostile fixture: file name and exact bytes. One case per file.
pub fn hostile_fixtures() -> Vec<(&'static str, Vec<u8>)> {
    let mut v: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let s = |t: &str| t.as_bytes().to_vec();

    v.push((
        "utf8_bom_crlf.csv",
        s("\u{feff}ext_id,name,email,phone,city\r\n\
           B1,Ann Lee,Ann.Lee@Example.COM,+86 138 0013 8000,Paris\r\n\
           B2,\"Bob\r\nStone\",bob@example.com,13900139000,Rome\r\n\
           B3,Cy Young,,,Oslo\r\n"),
    ));

    let (gbk, _, unmappable) = encoding_rs::GB18030.encode(CHINESE_HEADERS_TEXT);
    assert!(!unmappable);
    v.push(("gbk_chinese_headers.csv", gbk.into_owned()));

    v.push((
        "quotes_newlines.csv",
        s("ext_id,name,company,street,city\n\
           Q1,\"Li \"\"The Boss\"\" Lei\",\"Acme, Inc.\",\"Line 1\nLine 2\",Shanghai\n\
           Q2,\"\"\"Quoted\"\"\",\"Say \"\"hi\"\"\",,\"Multi\nline\ncity\"\n\
           Q3,Plain,\"\",,\"\"\n"),
    ));

    v.push((
        "quoted_multiline_with_commas.csv",
        s("ext_id,name,street,city\n\
           M1,Ann Lee,\"Room 5, Floor 3\nBuilding 2, Zone A, Park Road\",Shanghai\n\
           M2,Bob Stone,1 Main St,Paris\n"),
    ));

    v.push((
        "ragged_rows.csv",
        s("ext_id,name,email,phone,city\n\
           R1,Short Row\n\
           R2,Long Row,long@example.com,,Paris,EXTRA,MORE\n\
           R3,Trailing Empty,,,Rome,,\n\
           R4,Normal,normal@example.com,13800138001,Oslo\n"),
    ));

    v.push((
        "invalid_emails_phones.csv",
        s("ext_id,name,email,phone\n\
           I1,Bad Email,not-an-email,13800138002\n\
           I2,Bad Phone,badphone@example.com,12345\n\
           I3,,@@@,abc\n\
           I4,,ok@example.com,\n\
           I5,,,+86 138 0013 8003\n\
           I6,Both Bad,a@b,999\n"),
    ));

    v.push((
        "mixed_dates.csv",
        s("ext_id,name,birth_date,signup_date\n\
           D1,Date One,2024-03-05,2024-03-05\n\
           D2,Date Two,2024/3/5,2024/3/5\n\
           D3,Date Three,20240305,20240305\n\
           D4,Date Four,2024年3月5日,2024年3月5日\n\
           D5,Date Five,5 Mar 2024,5 Mar 2024\n\
           D6,Date Bad,2024-02-30,yesterday\n"),
    ));

    let big = "x".repeat(100 * 1024);
    let big_name = "N".repeat(100 * 1024);
    v.push((
        "field_100kb.csv",
        s(&format!(
            "ext_id,name,notes\nK1,Big Field,{big}\nK2,{big_name},short\nK3,Small,ok\n"
        )),
    ));

    v.push((
        "control_ansi_bidi.csv",
        s("ext_id,name,company\n\
           A1,\u{1b}[31mRed Alert\u{1b}[0m,\u{1b}]0;pwned\u{07}Evil Corp\n\
           A2,Bell\u{07} Ringer\u{01}\u{7f},Null\u{0}Byte Ltd\n\
           A3,\u{202e}Right To Left\u{202c},\u{2066}Isolate\u{2069} Ltd\n\
           A4,\u{1b}[1;32m\u{1b}[0m\u{200b},\n"),
    ));

    v.push((
        "emoji.csv",
        s("ext_id,name,company,city\n\
           E1,Zoë 😀 Smith,🍕 Pizza Palace,Paris\n\
           E2,王😊芳,Café ☕,北京\n\
           E3,👍🏽 Thumbs,🇨🇳 Flag Co,\n"),
    ));

    v.push((
        "emoji_zwj_sequence.csv",
        s("ext_id,name\nZ1,👨\u{200d}👩\u{200d}👧 Family\n"),
    ));

    v.push((
        "fullwidth_digits.csv",
        s("ext_id,name,email,phone\n\
           F1,Ｊｏｈｎ\u{3000}Ｄｏｅ,ＪＯＨＮ＠ＥＸＡＭＰＬＥ．ＣＯＭ,１３８００１３８０００\n\
           F2,全角,fw@example.com,＋８６\u{3000}１３９\u{3000}００１３\u{3000}９０００\n"),
    ));

    v.push((
        "unclosed_quote.csv",
        s("ext_id,name,email,city\n\
           U1,Ann,ann@example.com,Paris\n\
           U2,\"Broken,broken@example.com,Rome\n\
           U3,Cy,cy@example.com,Oslo\n\
           U4,Di,di@example.com,Lima\n"),
    ));

    v.push((
        "semicolon.csv",
        s("ext_id;name;email;phone;balance\n\
           S1;Müller, Hans;hans@example.de;+86 138 0013 8005;1,50\n\
           S2;Dupont;dupont@example.fr;;2,75\n"),
    ));

    v.push((
        "tab_delimited.tsv",
        s("ext_id\tname\temail\tcity\n\
           T1\tTab One\tt1@example.com\tNew York, NY\n\
           T2\tTab Two\tt2@example.com\tParis; France\n"),
    ));

    v.push((
        "array.json",
        s(r#"[
  {"ext_id": "J1", "name": "Json One", "email": "J1@Example.com", "phone": 13800138004, "vip": true},
  {"ext_id": "J2", "name": "Json Two", "labels": ["a", "b"]},
  42,
  {"ext_id": "J4", "email": "bad"}
]
"#),
    ));

    v.push((
        "lines.jsonl",
        s(
            r#"{"ext_id": "L1", "name": "Line One", "e-mail": "L1@example.com"}
{"ext_id": "L2", "name": "Line Two", "mobile": "139 0013 9001"}
this is not json
{"ext_id": "L4", "name": "Line Four"
[1, 2]
"#,
        ),
    ));

    // Valid UTF-8 Chinese text with one stray byte: the file is still
    // UTF-8; only the row with the bad byte may be rejected.
    let mut bad = "ext_id,name,city\nG1,张伟,上海\nG2,李".as_bytes().to_vec();
    bad.push(0xff);
    bad.extend_from_slice("娜,北京\nG3,王芳,广州\nG4,欧阳娜娜,深圳\n".as_bytes());
    v.push(("utf8_stray_byte.csv", bad));

    v
}

/// Opens a database folder with plain sled, to inspect or damage its keys.
/// sled's background threads release the file lock a moment after the last
/// handle (or rolo process) goes, so retry briefly.
pub fn open_raw(path: &Path) -> sled::Db {
    for _ in 0..100 {
        if let Ok(db) = sled::open(path) {
            return db;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    sled::open(path).unwrap()
}

/// Opens a rolo database folder again after its last handle was dropped
/// (retrying briefly, as `open_raw` does, while sled releases its lock).
pub fn reopen(db: &Path) -> rolo::store::Store {
    reopen_result(db).unwrap()
}

/// [`reopen`], returning the error of a database that does not open.
pub fn reopen_result(db: &Path) -> Result<rolo::store::Store, rolo::store::StoreError> {
    let opts = rolo::store::OpenOptions::default();
    for _ in 0..100 {
        match rolo::store::Store::open(db, &opts) {
            Err(rolo::store::StoreError::Locked(_)) => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
    rolo::store::Store::open(db, &opts)
}

/// One field's entry of a `rolo quality --json` report.
pub fn quality_field<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == name)
        .unwrap_or_else(|| panic!("no field {name} in {r}"))
}

/// The `count` of a quality figure.
pub fn figure_count(f: &Value) -> u64 {
    f["count"].as_u64().unwrap()
}

/// A small deterministic generator (xorshift64*): no extra dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A number from the environment, else `default` (for longer runs of the
/// randomised tests: trials, seeds).
pub fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Copies a folder and everything in it (folders keep their permissions).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::set_permissions(to, std::fs::metadata(from).unwrap().permissions()).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
