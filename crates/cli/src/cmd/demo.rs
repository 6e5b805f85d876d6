//! `capsurvey demo`: the loop on a fresh SQLite database and the shipped fixtures, by running the
//! same commands an administrator would, in order.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser};

use crate::{Cli, Ctx};

/// Options of the demo.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Folder for the database, forms, handouts and exports.
    #[arg(long, default_value = "demo-out")]
    out: PathBuf,
    /// Folder holding the shipped fixtures (roster/, replies/, campaign.toml).
    #[arg(long, default_value_os_t = default_fixtures())]
    fixtures: PathBuf,
    /// Facilities per survey whose replies come back by fax or post (simulated).
    #[arg(long, default_value_t = 20, value_name = "N")]
    facilities: usize,
}

/// One step of the demo.
enum Step {
    /// A capsurvey command, as an administrator would type it.
    Cli(Vec<String>),
    /// Replies arriving: simulated faxes and scans written to the inbox folder.
    Inbox,
}

fn default_fixtures() -> PathBuf {
    let here = PathBuf::from("fixtures");
    if here.is_dir() {
        here
    } else {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
    }
}

fn files_in(dir: &Path, keep: impl Fn(&Path) -> bool) -> Result<Vec<String>> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && keep(p))
        .map(|p| p.display().to_string())
        .collect();
    out.sort();
    Ok(out)
}

/// Runs the demo.
pub async fn run(parent: &Ctx, args: DemoArgs) -> Result<ExitCode> {
    let fx = &args.fixtures;
    if !fx.join("roster").is_dir() {
        bail!(
            "no fixtures in {}: run the demo from the capsurvey checkout or pass --fixtures DIR",
            fx.display()
        );
    }
    for sub in ["", "handouts", "exports"] {
        let dir = args.out.join(sub);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let db = args.out.join("capsurvey.db");
    for suffix in ["", "-wal", "-shm"] {
        let p = PathBuf::from(format!("{}{suffix}", db.display()));
        if p.exists() {
            std::fs::remove_file(&p)
                .with_context(|| format!("removing the earlier demo database {}", p.display()))?;
        }
    }
    let db_s = db.display().to_string();
    let out = args.out.display().to_string();
    let ctx = Ctx::new(
        db_s.clone(),
        parent.surveys_dir.clone(),
        parent.actor.clone(),
        Some(args.out.join("data")),
    );
    let campaign = fx.join("campaign.toml").display().to_string();
    let surveys = ["dental", "homecare-clinic", "visiting-nurse"];

    let roster = files_in(&fx.join("roster"), |p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        !name.starts_with("area-map") && (name.ends_with(".csv") || name.ends_with(".xlsx"))
    })?;
    let area_map = fx.join("roster/area-map.csv").display().to_string();
    let mut steps: Vec<(String, Step)> = Vec::new();
    let mut step = |title: &str, args: Vec<String>| steps.push((title.to_owned(), Step::Cli(args)));
    let mut import = vec![
        "roster".into(),
        "import".into(),
        "--area-map".into(),
        area_map,
    ];
    import.extend(roster);
    step(
        "1. Import the roster (public lists and the city's own, UTF-8 and CP932)",
        import,
    );
    for s in surveys {
        step(
            &format!("2. Generate the {s} forms"),
            vec![
                "forms",
                "generate",
                "--survey",
                s,
                "--campaign",
                &campaign,
                "--out",
                &format!("{out}/forms/{s}"),
            ]
            .into_iter()
            .map(String::from)
            .collect(),
        );
    }
    steps.push((
        "3. Replies arrive: faxes (standard and fine), a scanned batch, a covering letter, a smudged code".into(),
        Step::Inbox,
    ));
    let mut step = |title: &str, args: Vec<String>| steps.push((title.to_owned(), Step::Cli(args)));
    step(
        "4. Read the faxes and scans (uncertain marks and handwriting go to review)",
        [
            "scan",
            "ingest",
            &format!("{out}/inbox"),
            "--report",
            &format!("{out}/scan-report.json"),
        ]
        .map(String::from)
        .to_vec(),
    );
    let replies_dir = fx.join("replies");
    if replies_dir.is_dir() {
        let mut replies = vec!["replies".to_owned(), "import".to_owned()];
        // The fixtures include a deliberately truncated file for the tests; the demo shows the
        // normal path and leaves it out.
        replies.extend(files_in(&replies_dir, |p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !name.contains("truncated")
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| matches!(x, "csv" | "tsv" | "xlsx"))
        })?);
        step(
            "5. Import replies that came as CSV and Excel files",
            replies,
        );
    }
    for s in surveys {
        step(
            &format!("6. Render the {s} handout"),
            [
                "report",
                "render",
                "--survey",
                s,
                "--out",
                &format!("{out}/handouts/{s}.html"),
            ]
            .map(String::from)
            .to_vec(),
        );
        for fmt in ["csv", "xlsx"] {
            step(
                &format!("7. Export {s} as {fmt}"),
                [
                    "export",
                    "--survey",
                    s,
                    "--format",
                    fmt,
                    "--out",
                    &format!("{out}/exports/{s}.{fmt}"),
                ]
                .map(String::from)
                .to_vec(),
            );
        }
    }
    step("8. Where the survey stands", vec!["status".into()]);

    let started = std::time::Instant::now();
    let mut failures = 0;
    for (title, step) in steps {
        let argv = match step {
            Step::Cli(argv) => argv,
            Step::Inbox => {
                println!("\n== {title}\n   (simulated into {out}/inbox/)");
                if let Err(e) = write_inbox(&db_s, &args.out.join("inbox"), args.facilities).await {
                    failures += 1;
                    eprintln!("error: {e:#}");
                }
                continue;
            }
        };
        println!("\n== {title}\n   capsurvey --db {db_s} {}", argv.join(" "));
        let cli = Cli::try_parse_from(std::iter::once("capsurvey".to_owned()).chain(argv))
            .context("internal: a demo step does not parse")?;
        match crate::dispatch(&ctx, cli.command).await {
            Ok(code) if code == ExitCode::SUCCESS => {}
            Ok(_) => {
                failures += 1;
                println!("   (this step reported problems; see above)");
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {e:#}");
            }
        }
    }
    ctx.close().await;
    println!(
        "\nDone in {:.1} s. Everything is in {out}/:",
        started.elapsed().as_secs_f64()
    );
    println!("  capsurvey.db     the database (SQLite)");
    println!(
        "  inbox/           the simulated faxes (TIFF) and scanned batch (PDF) that were read"
    );
    println!("  data/            page images and review crops");
    println!("  scan-report.json what was read on every page, box by box");
    println!(
        "  forms/           one PDF per facility, the combined print file and the layout, per survey"
    );
    println!("  handouts/        the briefing handouts (open in a browser, print to A4)");
    println!("  exports/         CSV (UTF-8 with BOM) and XLSX, one row per facility");
    println!("\nTo look at the review queue:");
    println!("  capsurvey --db {db_s} user add admin --role admin");
    println!("  capsurvey --db {db_s} review serve    # then open http://127.0.0.1:8080");
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Simulates the replies of the first `per_survey` facilities mailed for each survey: two in
/// five by fax at standard resolution, two by fine fax, one by post (scanned).
async fn write_inbox(db: &str, dir: &Path, per_survey: usize) -> Result<()> {
    use capsurvey_faxsim::inbox::{Channel, Reply};
    let store = capsurvey_store::Store::open(db).await?;
    let mut versions = Vec::new();
    for v in capsurvey_store::survey_versions(store.db()).await? {
        let survey = capsurvey_store::stored_definition(&v)?;
        let layout = capsurvey_forms::form::layout(&survey, &v.content_hash);
        let mailings: Vec<i64> = capsurvey_store::mailings_of(store.db(), v.id)
            .await?
            .into_iter()
            .filter(|m| m.facility_id.is_some())
            .map(|m| m.id)
            .take(per_survey)
            .collect();
        versions.push((v.id, survey, layout, mailings));
    }
    let mut replies = Vec::new();
    for (sv, survey, layout, mailings) in &versions {
        for (i, &m) in mailings.iter().enumerate() {
            replies.push(Reply {
                survey,
                layout,
                survey_version_id: *sv as u32,
                mailing_id: m as u32,
                channel: match i % 5 {
                    0 | 1 => Channel::FaxStandard,
                    2 | 3 => Channel::FaxFine,
                    _ => Channel::Scan,
                },
                seed: m as u64,
            });
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir)
            .with_context(|| format!("removing the earlier demo inbox {}", dir.display()))?;
    }
    let inbox = tokio::task::block_in_place(|| capsurvey_faxsim::inbox::write_inbox(dir, &replies))
        .with_context(|| format!("writing the simulated replies to {}", dir.display()))?;
    println!(
        "   {} replies, {} pages in {} files ({} upside down, {} that cannot be identified)",
        replies.len(),
        inbox.pages,
        inbox.files.len(),
        inbox.upside_down,
        inbox.unidentifiable
    );
    Ok(())
}
