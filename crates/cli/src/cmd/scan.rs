//! `capsurvey scan`: faxed and scanned replies into the store.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use capsurvey_ingest::{FileReport, IngestOptions, Outcome, Progress, Summary};
use clap::Subcommand;

use crate::{Ctx, progress};

/// Scan commands.
#[derive(Subcommand, Debug)]
pub enum ScanCmd {
    /// Read faxed or scanned replies: identify each page, read its marks, queue the rest for review.
    ///
    /// Takes files and folders (folders are searched for .tif, .tiff, .pdf, .png, .jpg and .jpeg;
    /// a file named on the command line is read whatever its name). Formats are recognised by
    /// content: multi-page TIFF (CCITT G4, G3 1-D and 2-D, LZW, uncompressed; 1-bit or grey),
    /// PDF whose pages are images, PNG and JPEG; fax standard (204×98 dpi), fine and 200–600 dpi
    /// scans, upside-down pages included.
    ///
    /// Each page is identified by the code printed on it. Marks the machine is sure of are
    /// stored as answers; uncertain marks, handwritten numbers and text, and pages whose code
    /// cannot be read go to the review queue (capsurvey review serve) with an image. Nothing is
    /// decided silently: a page read before (same pixels) changes nothing, and a different copy
    /// of a page that disagrees is queued as a conflict. Each file is stored in one transaction
    /// and a file ingested before (same bytes) is skipped, so running the same command again is
    /// safe. A calibration page (capsurvey forms calibration) is measured and reported.
    ///
    /// Afterwards a share of what the machine decided alone is queued as quality checks, pages
    /// a person has assigned in the review site are read, and forms with pages still missing are
    /// listed. Page images and crops go to the data folder (--data).
    ///
    /// Exit status: 0 when every file was read, 1 when a file or a page could not be.
    #[command(
        after_help = "Examples:\n  capsurvey scan ingest fax-inbox/\n  capsurvey scan ingest 20261120-*.tif --report ingest.json\n  capsurvey scan ingest calibration-fax.tif"
    )]
    Ingest {
        /// Files or folders.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Also write a JSON report: per page the file, page index, code, geometry and every
        /// box's state and confidence.
        #[arg(long, value_name = "FILE.json")]
        report: Option<PathBuf>,
        /// Share of the fields decided by the machine alone that are queued as quality checks,
        /// so that `capsurvey accuracy` also covers them (0 turns it off).
        #[arg(long, value_name = "SHARE", default_value_t = capsurvey_store::review::DEFAULT_QUALITY_SHARE)]
        quality_share: f64,
    },
    /// Read the pages that staff identified in the review site (normally done by every ingest).
    Reread,
    /// Forms of which some pages arrived and others are still missing.
    Missing,
    /// Measure a faxed or scanned calibration page without storing anything.
    ///
    /// Print `capsurvey forms calibration --out calibration.pdf`, fax it (or scan it) the way the
    /// replies will come, and give the received file here: it says whether the printer scaled
    /// the page (「用紙に合わせる」) and how much of each edge the fax cut.
    Calibration {
        /// The received calibration page (TIFF, PDF, PNG or JPEG).
        file: PathBuf,
    },
}

/// Runs a scan command.
pub async fn run(ctx: &Ctx, cmd: ScanCmd) -> Result<ExitCode> {
    match cmd {
        ScanCmd::Ingest {
            paths,
            report,
            quality_share,
        } => ingest(ctx, paths, report, quality_share).await,
        ScanCmd::Reread => reread(ctx).await,
        ScanCmd::Missing => missing(ctx).await,
        ScanCmd::Calibration { file } => calibration(file),
    }
}

async fn ingest(
    ctx: &Ctx,
    paths: Vec<PathBuf>,
    report_path: Option<PathBuf>,
    quality_share: f64,
) -> Result<ExitCode> {
    if !(0.0..=1.0).contains(&quality_share) {
        bail!("--quality-share must be between 0 and 1 (0.01 is 1 %), not {quality_share}");
    }
    let (files, problems) = capsurvey_ingest::collect_inputs(&paths);
    for p in &problems {
        eprintln!("error: {p}");
    }
    if files.is_empty() {
        bail!(
            "no files to read: give fax or scan files (TIFF, PDF, PNG, JPEG) or folders holding them"
        );
    }
    let store = ctx.store().await?;
    let mut opts = IngestOptions::new(&ctx.actor, ctx.data_dir());
    opts.quality_share = quality_share;
    opts.keep_boxes = report_path.is_some();
    let bar = progress::bar(files.len() as u64, "files");
    let mut pages = 0u64;
    let mut on_progress = |p: Progress<'_>| match p {
        Progress::Page { .. } => {
            pages += 1;
            bar.set_message(format!("{pages} pages"));
        }
        Progress::FileDone(r) => {
            bar.inc(1);
            bar.suspend(|| print_file(r));
        }
    };
    let summary = capsurvey_ingest::ingest(&store, &files, &opts, &mut on_progress)
        .await
        .map_err(|e| {
            let e = e.to_string();
            anyhow::anyhow!("{e}{}", capsurvey_store::write_failure_hint(&e))
        })?;
    bar.finish_and_clear();
    if let Some(path) = &report_path {
        let json = serde_json::to_string_pretty(&summary).expect("reports serialise");
        std::fs::write(path, json)
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    print_summary(&summary, &opts);
    if let Some(path) = &report_path {
        println!("report: {}", path.display());
    }
    Ok(if summary.had_errors() || !problems.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_file(r: &FileReport) {
    match &r.outcome {
        Outcome::Failed { error } => {
            eprintln!("error: {error}");
            return;
        }
        Outcome::Skipped { previous_path } => {
            println!(
                "{}: skipped, the same file was ingested before (as {previous_path})",
                r.path
            );
            return;
        }
        Outcome::Imported => {}
    }
    let c = &r.counts;
    let mut parts = vec![format!("{} page(s)", c.pages)];
    if c.identified > 0 {
        parts.push(format!("{} identified", c.identified));
    }
    if c.unidentified > 0 {
        parts.push(format!("{} unidentified (to assign)", c.unidentified));
    }
    if c.duplicates > 0 {
        parts.push(format!("{} received before", c.duplicates));
    }
    if c.calibration > 0 {
        parts.push(format!("{} calibration", c.calibration));
    }
    if c.fields_decided + c.marks_to_review + c.write_ins + c.conflicts > 0 {
        parts.push(format!(
            "{} field(s) read, {} to review",
            c.fields_decided,
            c.marks_to_review + c.write_ins + c.conflicts
        ));
    }
    println!("{}: {}", r.path, parts.join(", "));
    for e in &r.errors {
        eprintln!("  error: {e}");
    }
    for p in &r.pages {
        if matches!(
            p.status.as_str(),
            "unidentified" | "unknown_code" | "blank_form"
        ) {
            println!(
                "  p{}: {}",
                p.page_index + 1,
                p.message.as_deref().unwrap_or("unidentified")
            );
        }
    }
    for (page, cal) in &r.calibration {
        println!("  p{page}: calibration page: {}", cal.describe().trim_end());
    }
}

fn print_summary(s: &Summary, opts: &IngestOptions) {
    let t = &s.totals;
    let failed = s.files.iter().filter(|f| f.failed()).count();
    let skipped = s
        .files
        .iter()
        .filter(|f| matches!(f.outcome, Outcome::Skipped { .. }))
        .count();
    println!(
        "{} file(s) ({} read, {skipped} skipped, {failed} failed), {} page(s): {} identified, \
         {} unidentified, {} received before, {} page error(s)",
        s.files.len(),
        s.files.len() - failed - skipped,
        t.pages + t.page_errors,
        t.identified,
        t.unidentified,
        t.duplicates,
        t.page_errors
    );
    println!(
        "fields: {} read automatically; to review: {} uncertain mark(s), {} handwritten, {} conflict(s), {} quality check(s)",
        t.fields_decided, t.marks_to_review, t.write_ins, t.conflicts, s.quality_checks
    );
    if s.reread.pages > 0 || !s.reread.problems.is_empty() {
        println!(
            "pages assigned in review and read now: {} ({} field(s) read, {} to review)",
            s.reread.pages,
            s.reread.fields_decided,
            s.reread.marks_to_review + s.reread.write_ins
        );
        for p in &s.reread.problems {
            eprintln!("  warning: {p}");
        }
    }
    print_missing(&s.missing);
    if t.pages > 0 && s.seconds > 0.0 {
        let n = t.pages as f64;
        let m = &s.times;
        println!(
            "{:.1} s, {:.0} pages/s; CPU per page: decode {:.1} ms, registration {:.1}, page code {:.2}, boxes {:.1}, images {:.1}, store {:.1}",
            s.seconds,
            n / s.seconds,
            m.decode / n,
            m.registration / n,
            m.page_code / n,
            m.boxes / n,
            m.images / n,
            m.store / n
        );
    }
    if t.unidentified + t.marks_to_review + t.write_ins + t.conflicts + s.quality_checks > 0 {
        println!(
            "next: capsurvey review serve   (images in {})",
            opts.data_dir.display()
        );
    }
}

fn print_missing(missing: &[capsurvey_ingest::MissingPages]) {
    if missing.is_empty() {
        return;
    }
    println!("forms with pages still missing:");
    for m in missing {
        let pages: Vec<String> = m.missing.iter().map(|p| p.to_string()).collect();
        println!(
            "  {} {} ({}): page(s) {} missing",
            m.form_code,
            m.facility.as_deref().unwrap_or("(blank form)"),
            m.survey,
            pages.join(", ")
        );
    }
}

async fn reread(ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let catalog = capsurvey_ingest::Catalog::load(store.db()).await?;
    let opts = IngestOptions::new(&ctx.actor, ctx.data_dir());
    let s = capsurvey_ingest::reread::reread_assigned(&store, &catalog, &opts).await?;
    println!(
        "{} assigned page(s) read: {} field(s) read, {} to review",
        s.pages,
        s.fields_decided,
        s.marks_to_review + s.write_ins
    );
    for p in &s.problems {
        eprintln!("warning: {p}");
    }
    Ok(if s.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn missing(ctx: &Ctx) -> Result<ExitCode> {
    let store = ctx.store().await?;
    let catalog = capsurvey_ingest::Catalog::load(store.db()).await?;
    let missing = capsurvey_ingest::missing::missing_pages(store.db(), &catalog, None).await?;
    if missing.is_empty() {
        println!("no form has pages missing");
    }
    print_missing(&missing);
    Ok(ExitCode::SUCCESS)
}

fn calibration(file: PathBuf) -> Result<ExitCode> {
    let mut source = capsurvey_scan::open(&file)?;
    let page = source
        .next()
        .with_context(|| format!("{}: the file has no pages", file.display()))??
        .reduced_for_recognition();
    let id = capsurvey_scan::identify(&page).map_err(|u| {
        anyhow::anyhow!(
            "{} p1: {}; fax or scan the whole calibration page, upright or upside down",
            file.display(),
            u.message()
        )
    })?;
    if id.code != capsurvey_forms::calibration::CALIBRATION_CODE {
        bail!(
            "{} p1 is a survey form page, not the calibration page (make one with capsurvey forms calibration --out calibration.pdf)",
            file.display()
        );
    }
    let report = capsurvey_ingest::calibration::measure_calibration(&page, &id);
    print!("{}: {}", file.display(), report.describe());
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
