//! End-to-end scan ingest: pages per second and peak memory for fax standard and fine G4 TIFF
//! and 300-dpi grey JPEG, with the time of each stage, into a fresh SQLite database.
//!
//! `cargo bench -p capsurvey-ingest --bench ingest` (PAGES=n to change the TIFF's page count,
//! JPEG_PAGES=n for the JPEG files, CASES=standard,fine,jpeg to run only some, RUNS=n for the
//! runs of each case: 3, and the best and the median are reported, because a shared machine's
//! speed swings by a third from one run to the next).
//! The replies are simulated by capsurvey-faxsim from the dental survey's real layout: ticks,
//! crosses, circles, handwriting in the number and text fields, fax degradation.

use std::path::{Path, PathBuf};
use std::time::Instant;

use capsurvey_faxsim::{
    PageCode, Picture, Profile, SimulatedPage, TiffCompression, random_answers,
    simulate_reply_pages, write_jpeg, write_tiff,
};
use capsurvey_ingest::{IngestOptions, ingest};
use capsurvey_store::entity::facilities;
use capsurvey_store::sea_orm::{ActiveModelTrait, Set};
use capsurvey_store::{Store, create_mailings, register_survey};

/// Peak resident memory of this process, MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// CPU time this process has used on all its threads (user and system), seconds: unlike wall
/// time, it does not grow when other work shares the machine.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let ticks: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|t| t.parse().ok())
        .collect();
    // The kernel counts in USER_HZ, which is 100 on Linux.
    ticks.iter().sum::<f64>() / 100.0
}

async fn setup(dir: &Path, replies: usize) -> (Store, capsurvey_survey::Parsed, i64, Vec<i64>) {
    let store = Store::open(&dir.join("bench.db").display().to_string())
        .await
        .unwrap();
    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .unwrap();
    let sv = register_survey(store.db(), &parsed, "bench")
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for i in 0..replies {
        let f = facilities::ActiveModel {
            code: Set(format!("13{i:08}")),
            facility_type: Set("dental".into()),
            name: Set(format!("ベンチ歯科{i}")),
            created_at: Set(capsurvey_store::now()),
            updated_at: Set(capsurvey_store::now()),
            ..Default::default()
        }
        .insert(store.db())
        .await
        .unwrap();
        ids.push(Some(f.id));
    }
    let mailings = create_mailings(store.db(), sv, "dental", "bench", "initial", &ids, "bench")
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    (store, parsed, sv, mailings)
}

fn replies(
    parsed: &capsurvey_survey::Parsed,
    sv: i64,
    mailings: &[i64],
    profile: Profile,
    pages: usize,
) -> Vec<SimulatedPage> {
    let survey = &parsed.survey;
    let layout = capsurvey_forms::form::layout(survey, &parsed.content_hash);
    let mut out = Vec::new();
    for &m in mailings.iter().cycle() {
        let answers = random_answers(survey, m as u64);
        let code = |page| PageCode {
            survey_version_id: sv as u32,
            mailing_id: m as u32,
            page,
        };
        out.extend(simulate_reply_pages(
            &layout,
            survey,
            code,
            &answers,
            profile,
            m as u64 * 7 + out.len() as u64,
        ));
        if out.len() >= pages {
            out.truncate(pages);
            return out;
        }
    }
    out
}

/// The figures of one run of a case.
struct RunResult {
    pages_per_s: f64,
    cpu_ms: f64,
    peak_mib: f64,
    /// Milliseconds per page: decode, registration, page code, boxes, images, store.
    stages: [f64; 6],
}

/// Runs one case; its folder is returned, to be deleted only after the last case, since freed
/// inodes slow down creating files for a while (see the `sync` before each run).
async fn case(name: &str, profile: Profile, pages: usize, as_jpeg: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    // Run k ingests into the database of folder run-k; the first is set up here, and its ids
    // go into the page codes.
    let run_dir = |run: usize| dir.path().join(format!("run-{run}"));
    std::fs::create_dir(run_dir(0)).unwrap();
    let (store, parsed, sv, mailings) = setup(&run_dir(0), pages.div_ceil(5)).await;
    let sims = replies(&parsed, sv, &mailings, profile, pages);
    let mut files: Vec<PathBuf> = Vec::new();
    if as_jpeg {
        for (i, p) in sims.iter().enumerate() {
            let path = dir.path().join(format!("scan-{i:04}.jpg"));
            std::fs::write(&path, write_jpeg(p.picture(), 85)).unwrap();
            files.push(path);
        }
    } else {
        let pics: Vec<Picture> = sims.iter().map(SimulatedPage::picture).collect();
        let path = dir.path().join("fax.tif");
        std::fs::write(&path, write_tiff(&pics, TiffCompression::G4)).unwrap();
        files.push(path);
    }
    let bytes: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).unwrap().len())
        .sum();
    drop(sims);
    drop(store);
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3)
        .max(1);
    println!(
        "{name}: {pages} pages ({:.1} MB input), {runs} runs",
        bytes as f64 / 1e6
    );
    let mut results = Vec::new();
    for run in 0..runs {
        // Each later run ingests into a database of its own, set up the same way (the same ids).
        if run > 0 {
            std::fs::create_dir(run_dir(run)).unwrap();
            let (store, _, sv_again, mailings_again) =
                setup(&run_dir(run), pages.div_ceil(5)).await;
            assert_eq!((sv_again, &mailings_again), (sv, &mailings));
            drop(store);
        }
        // Files deleted in the last five minutes (an earlier bench's, a test run's) make ext4
        // step over their inodes whenever a file is created while their inode table block is
        // still dirty in memory, and every page image and crop is a new file: profiles of a
        // run started soon after another showed about 7 % of the ingest's CPU there. Writing
        // everything out first leaves them clean, which shortens that to five seconds.
        let _ = std::process::Command::new("sync").status();
        // The ingest runs in a process of its own, so that its peak memory is its own.
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .env("CAPSURVEY_BENCH_CHILD", run_dir(run))
            .args(&files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let n = r["pages"].as_f64().unwrap();
        assert_eq!(n as usize, pages);
        let result = RunResult {
            pages_per_s: n / r["seconds"].as_f64().unwrap(),
            cpu_ms: r["cpu_seconds"].as_f64().unwrap() * 1000.0 / n,
            peak_mib: r["peak_mib"].as_f64().unwrap(),
            stages: [
                "decode",
                "registration",
                "page_code",
                "boxes",
                "images",
                "store",
            ]
            .map(|k| r["times"][k].as_f64().unwrap() / n),
        };
        println!(
            "  run {}: {:.0} pages/s; CPU per page (all threads) {:.1} ms; peak memory {:.0} MiB; \
             {} fields read, {} to review",
            run + 1,
            result.pages_per_s,
            result.cpu_ms,
            result.peak_mib,
            r["fields"],
            r["review"],
        );
        results.push(result);
    }
    results.sort_by(|a, b| b.pages_per_s.total_cmp(&a.pages_per_s));
    let (best, median) = (&results[0], &results[results.len() / 2]);
    println!(
        "  best {:.0} pages/s, median {:.0} (2 cores busy at the best run's CPU: {:.0} pages/s)",
        best.pages_per_s,
        median.pages_per_s,
        2000.0 / best.cpu_ms
    );
    let [decode, registration, page_code, boxes, images, store] = best.stages;
    println!(
        "  stage ms per page (best run): decode {decode:.2}, registration {registration:.2}, \
         page code {page_code:.2}, boxes {boxes:.2}, images {images:.2}, store {store:.2}"
    );
    dir
}

/// The child: ingest the files given into the database in the folder, print the figures.
async fn child(dir: &Path, files: Vec<PathBuf>) {
    let store = Store::open(&dir.join("bench.db").display().to_string())
        .await
        .unwrap();
    let opts = IngestOptions::new("bench", dir.join("data"));
    let t = Instant::now();
    let cpu = cpu_seconds();
    let s = ingest(&store, &files, &opts, &mut |_| {}).await.unwrap();
    let seconds = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    let r = serde_json::json!({
        "pages": s.totals.pages,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "peak_mib": peak_mib(),
        "fields": s.totals.fields_decided,
        "review": s.totals.marks_to_review + s.totals.write_ins,
        "times": s.times,
    });
    println!("{r}");
}

fn main() {
    let pages: usize = std::env::var("PAGES")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(500);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Some(dir) = std::env::var_os("CAPSURVEY_BENCH_CHILD") {
        let files = std::env::args().skip(1).map(PathBuf::from).collect();
        rt.block_on(child(Path::new(&dir), files));
        return;
    }
    println!("threads: {}", rayon::current_num_threads());
    // CASES=standard,fine,jpeg picks some (to profile one, say).
    let cases = std::env::var("CASES").unwrap_or_else(|_| "standard,fine,jpeg".into());
    let wanted = |c: &str| cases.split(',').any(|w| w.trim() == c);
    rt.block_on(async {
        let mut done = Vec::new();
        if wanted("standard") {
            done.push(case("fax standard G4 TIFF", Profile::FaxStandard, pages, false).await);
        }
        if wanted("fine") {
            done.push(case("fax fine G4 TIFF", Profile::FaxFine, pages / 2, false).await);
        }
        if wanted("jpeg") {
            let jpegs = std::env::var("JPEG_PAGES")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(120);
            done.push(case("300 dpi grey JPEG", Profile::Scan300Grey, jpegs, true).await);
        }
    });
}
