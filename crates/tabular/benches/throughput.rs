//! Throughput of reply-file import, printed as a table (no criterion: one run is enough to see
//! the orders of magnitude, and the figures go into the README).
//!
//! ```text
//! cargo bench -p capsurvey-tabular --bench throughput
//! CAPSURVEY_TEST_POSTGRES=1 cargo bench -p capsurvey-tabular --bench throughput   # + PostgreSQL
//! CAPSURVEY_BENCH_ROWS=100000 CAPSURVEY_BENCH_DB_ROWS=2000 cargo bench …           # smaller
//! CAPSURVEY_BENCH_FILE=/tmp/replies.csv cargo bench …     # keep the generated CSV there
//! ```
//!
//! 1. Parsing: a 1,000,000-row dental reply CSV (UTF-8, 21 columns, realistic messy values) is
//!    read (a) with the plain `csv` crate into `StringRecord`s, and (b) by capsurvey: header
//!    mapping, parsing, normalisation and checking of every value, with its parallel blocks.
//! 2. Writing: 20,000 rows imported into a fresh SQLite file (and PostgreSQL when
//!    CAPSURVEY_TEST_POSTGRES is set), through the full answer rules; then the same rows again from
//!    a file with other bytes (every value unchanged), which is what re-sent batches cost.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use capsurvey_store::entity::facilities;
use capsurvey_store::sea_orm::{EntityTrait, Set};
use capsurvey_store::testing::{TestDb, postgres_url};
use capsurvey_survey::parse_survey;
use capsurvey_tabular::import::{ImportOptions, import_files};
use capsurvey_tabular::{Catalog, ReadOptions, ReplyFile};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn catalog() -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut parsed = Vec::new();
    for id in ["dental", "homecare-clinic", "visiting-nurse"] {
        let path = root.join(format!("surveys/{id}.toml"));
        parsed.push(parse_survey(id, &std::fs::read_to_string(path).unwrap()).unwrap());
    }
    Catalog::new(parsed)
}

const HEADER: &str = "facility_code,q01a,q03,q04.full,q04.part,q05.full,q05.part,q06,q07.unit,q07.engine,q08,q09,q10.home,q10.facility,q11a,q11b,q12,q18a,q19,q26,q28";

/// One row, varied the way replies typed by people vary.
fn row(i: usize, out: &mut String) {
    use std::fmt::Write as _;
    let r = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 7;
    let pick = |n: u64, salt: u64| ((r >> (salt * 5)) % n) as usize;
    let fw = ["５", "１２", "３"];
    let _ = write!(out, "13{:08},", i % 100_000_000);
    out.push_str(["みどり歯科医院", "さくら歯科クリニック", "けやき歯科"][pick(3, 1)]);
    out.push(',');
    out.push_str(["1", "2", "医療法人", "3"][pick(4, 2)]);
    let _ = write!(out, ",{},{}", pick(10, 3), pick(5, 4));
    if pick(10, 5) == 0 {
        let _ = write!(out, ",{},{}", fw[pick(3, 6)], pick(8, 7));
    } else {
        let _ = write!(out, ",{},{}", pick(8, 6), pick(8, 7));
    }
    out.push_str([",1;3", ",2", ",7", ",\"1,4,5\"", ",在宅療養支援歯科診療所1"][pick(5, 8)]);
    let _ = write!(out, ",{},{}", pick(3, 9), pick(4, 10));
    out.push_str([",1", ",2", ",3", ",外来診療とあわせて実施している"][pick(4, 11)]);
    out.push_str([",1;2", ",1、4", ",2"][pick(3, 12)]);
    // One row in eight has an out-of-range count ("1,234" where max is 999): review work.
    out.push_str([",12", ",\"1,234\"", ",40", ",−", ",８", ",0", ",3", ",120"][pick(8, 13)]);
    let _ = write!(out, ",{}", pick(60, 14));
    out.push_str([",はい", ",いいえ", ",○", ",実施している"][pick(4, 15)]);
    let _ = write!(out, ",{}", pick(30, 16));
    out.push_str([",1;3;5;7", ",9、10", ",2", ","][pick(4, 17)]);
    out.push_str([",対応可", ",対応不可", ",○", ",×"][pick(4, 18)]);
    out.push_str([",はい", ",いいえ", ","][pick(3, 19)]);
    out.push_str([",1", ",2", ",掲載してよい"][pick(3, 20)]);
    out.push_str(
        [
            ",",
            ",特になし",
            ",\"訪問の依頼が増えています。研修会を希望します\"",
            ",\"連携先の情報がほしい、特に病院\"",
        ][pick(4, 21)],
    );
    out.push('\n');
}

fn write_csv(path: &Path, rows: usize, codes: Option<&[String]>) {
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    writeln!(f, "{HEADER}").unwrap();
    let mut line = String::with_capacity(256);
    for i in 0..rows {
        line.clear();
        row(i, &mut line);
        if let Some(codes) = codes {
            // Replace the generated code (first 10 characters) by a roster code.
            line.replace_range(..10, &codes[i]);
        }
        f.write_all(line.as_bytes()).unwrap();
    }
    f.flush().unwrap();
}

/// CPU time of the whole process so far (all threads), from /proc: on a machine shared with
/// other work, wall time alone says little about what a step costs.
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |r| r.1);
    let f: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line: 12th and 13th after the name.
    let field = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok()).unwrap_or(0);
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

fn plain_csv(path: &Path) -> (usize, Duration) {
    let t = Instant::now();
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let mut rec = csv::StringRecord::new();
    let mut n = 0;
    while rdr.read_record(&mut rec).unwrap() {
        n += 1;
    }
    (n, t.elapsed())
}

fn capsurvey(path: &Path, c: &Catalog) -> (usize, usize, usize, Duration) {
    let t = Instant::now();
    let opts = ReadOptions {
        survey: Some("dental".into()),
        ..Default::default()
    };
    let mut file = ReplyFile::open(path, c, &opts).unwrap();
    let (mut rows, mut answers, mut misfits) = (0, 0, 0);
    while let Some(chunk) = file.next_chunk() {
        let chunk = chunk.unwrap();
        assert!(chunk.errors.is_empty(), "{:?}", &chunk.errors[..1]);
        rows += chunk.rows.len();
        for r in &chunk.rows {
            answers += r.answers.len();
            misfits += r.answers.iter().filter(|a| a.problem().is_some()).count();
        }
    }
    (rows, answers, misfits, t.elapsed())
}

/// How much faster a trivially parallel loop runs on every rayon thread than on one: the
/// parallelism the machine actually offered during the run (other work may be using cores).
fn parallel_headroom() -> f64 {
    use rayon::prelude::*;
    fn spin(seed: u64) -> u64 {
        let mut x = seed;
        for _ in 0..30_000_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        x
    }
    let n = rayon::current_num_threads() as u64;
    let t = Instant::now();
    let a: u64 = (0..n).map(spin).fold(0, u64::wrapping_add);
    let serial = t.elapsed();
    let t = Instant::now();
    let b: u64 = (0..n)
        .into_par_iter()
        .map(spin)
        .reduce(|| 0, u64::wrapping_add);
    let parallel = t.elapsed();
    assert_eq!(a, b);
    serial.as_secs_f64() / parallel.as_secs_f64()
}

fn fmt_n(x: f64) -> String {
    let s = format!("{:.0}", x);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

async fn write_bench(
    db: TestDb,
    dir: &Path,
    rows: usize,
    catalog: Arc<Catalog>,
) -> (String, Duration, Duration, u64) {
    let conn = db.store.db();
    let codes: Vec<String> = (0..rows).map(|i| format!("L{:09}", i)).collect();
    let t = capsurvey_store::now();
    for part in codes.chunks(1000) {
        facilities::Entity::insert_many(part.iter().map(|c| facilities::ActiveModel {
            code: Set(c.clone()),
            facility_type: Set("dental".into()),
            name: Set(format!("歯科{c}")),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        }))
        .exec_without_returning(conn)
        .await
        .unwrap();
    }
    let first = dir.join(format!("write-{}.csv", db.backend));
    write_csv(&first, rows, Some(&codes));
    let opts = ImportOptions::new("bench");
    let t0 = Instant::now();
    let r = import_files(
        &db.store,
        Arc::clone(&catalog),
        std::slice::from_ref(&first),
        &opts,
        &mut |_| {},
    )
    .await;
    let d1 = t0.elapsed();
    assert!(!r[0].failed(), "{:?}", r[0].outcome);
    assert_eq!(r[0].rows_stored as usize, rows);
    let answers = r[0].answers.inserted + r[0].answers.sent_to_review;
    // The same rows with other bytes (a trailing empty line): every value unchanged.
    let second = dir.join(format!("write-{}-again.csv", db.backend));
    std::fs::copy(&first, &second).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&second)
        .unwrap()
        .write_all(b"\n")
        .unwrap();
    let t1 = Instant::now();
    let r2 = import_files(&db.store, catalog, &[second], &opts, &mut |_| {}).await;
    let d2 = t1.elapsed();
    assert_eq!(
        r2[0].answers.unchanged, r[0].answers.inserted,
        "{:?}",
        r2[0].answers
    );
    let name = db.backend.to_owned();
    db.cleanup().await;
    (name, d1, d2, answers)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let rows = env_usize("CAPSURVEY_BENCH_ROWS", 1_000_000);
    let db_rows = env_usize("CAPSURVEY_BENCH_DB_ROWS", 20_000);
    let dir = tempfile::tempdir().unwrap();
    // CAPSURVEY_BENCH_FILE keeps the generated file there, for profiling.
    let path: PathBuf = std::env::var_os("CAPSURVEY_BENCH_FILE")
        .map_or_else(|| dir.path().join("replies.csv"), PathBuf::from);
    eprintln!("writing a {rows}-row CSV …");
    write_csv(&path, rows, None);
    let size = std::fs::metadata(&path).unwrap().len() as f64;
    let c = catalog();

    // Warm the page cache, then take the better of two runs of each.
    let _ = plain_csv(&path);
    let headroom_before = parallel_headroom();
    let mut best_csv = Duration::MAX;
    let mut best_ours = Duration::MAX;
    let (mut cpu_csv, mut cpu_ours) = (Duration::MAX, Duration::MAX);
    let (mut n_answers, mut n_misfits) = (0, 0);
    for _ in 0..2 {
        let c0 = cpu_time();
        let (n, d) = plain_csv(&path);
        let c1 = cpu_time();
        assert_eq!(n, rows);
        best_csv = best_csv.min(d);
        cpu_csv = cpu_csv.min(c1 - c0);
        let (n, a, m, d) = capsurvey(&path, &c);
        let c2 = cpu_time();
        assert_eq!(n, rows);
        n_answers = a;
        n_misfits = m;
        best_ours = best_ours.min(d);
        cpu_ours = cpu_ours.min(c2 - c1);
    }
    let headroom = (headroom_before + parallel_headroom()) / 2.0;
    let rps = |d: Duration, n: usize| n as f64 / d.as_secs_f64();
    let csv_rps = rps(best_csv, rows);
    let our_rps = rps(best_ours, rows);

    let catalog = Arc::new(c);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut writes = Vec::new();
    rt.block_on(async {
        writes.push(
            write_bench(
                TestDb::sqlite().await,
                dir.path(),
                db_rows,
                Arc::clone(&catalog),
            )
            .await,
        );
        if let Some(url) = postgres_url() {
            writes.push(
                write_bench(
                    TestDb::postgres(&url).await,
                    dir.path(),
                    db_rows,
                    Arc::clone(&catalog),
                )
                .await,
            );
        }
    });

    println!();
    println!(
        "capsurvey-tabular throughput: {} rows, {:.1} MB, 21 columns, {} rayon threads",
        fmt_n(rows as f64),
        size / 1e6,
        rayon::current_num_threads()
    );
    println!();
    println!("| step | time | rows/s | MB/s | CPU time |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| csv crate: read every record (StringRecord), 1 thread | {:.2} s | {} | {:.0} | {:.2} s |",
        best_csv.as_secs_f64(),
        fmt_n(csv_rps),
        size / 1e6 / best_csv.as_secs_f64(),
        cpu_csv.as_secs_f64()
    );
    println!(
        "| capsurvey: parse, map, normalise, check ({} values, {} to review) | {:.2} s | {} | {:.0} | {:.2} s |",
        fmt_n(n_answers as f64),
        fmt_n(n_misfits as f64),
        best_ours.as_secs_f64(),
        fmt_n(our_rps),
        size / 1e6 / best_ours.as_secs_f64(),
        cpu_ours.as_secs_f64()
    );
    println!();
    println!(
        "parse + normalise / plain csv read: {:.2}× in rows/s (target ≥ 0.5×); CPU time {:.1}× the csv read's",
        our_rps / csv_rps,
        cpu_ours.as_secs_f64() / cpu_csv.as_secs_f64().max(1e-9)
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "(load average during the run: {}; on {} CPUs; a trivially parallel loop ran {:.2}× faster \
         on {} threads than on one: the parallelism the machine offered)",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        headroom,
        rayon::current_num_threads()
    );
    println!();
    println!(
        "| write ({} rows, one transaction) | time | rows/s | answers/s |",
        fmt_n(db_rows as f64)
    );
    println!("|---|---:|---:|---:|");
    for (backend, d1, d2, answers) in &writes {
        println!(
            "| {backend}: new replies ({} answers) | {:.2} s | {} | {} |",
            fmt_n(*answers as f64),
            d1.as_secs_f64(),
            fmt_n(rps(*d1, db_rows)),
            fmt_n(*answers as f64 / d1.as_secs_f64())
        );
        println!(
            "| {backend}: the same replies again, other bytes (all unchanged) | {:.2} s | {} | {} |",
            d2.as_secs_f64(),
            fmt_n(rps(*d2, db_rows)),
            fmt_n(*answers as f64 / d2.as_secs_f64())
        );
    }
    if postgres_url().is_none() {
        println!("(PostgreSQL not measured: set CAPSURVEY_TEST_POSTGRES=1)");
    }
}
