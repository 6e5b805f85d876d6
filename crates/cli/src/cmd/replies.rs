//! `capsurvey replies import`: reply files (CSV, tab-separated, xlsx) into the store.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, Result};
use capsurvey_tabular::import::{FileReport, ImportOptions, Outcome, Progress, import_files};
use capsurvey_tabular::{Catalog, Mapping};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};

use crate::{Ctx, surveys};

/// Reply import commands.
#[derive(Subcommand, Debug)]
pub enum RepliesCmd {
    /// Import replies that arrived as CSV or Excel files.
    ///
    /// Reads CSV (UTF-8 with or without BOM, or Shift_JIS as Excel saves it; comma, tab or
    /// semicolon; CRLF or LF) and workbooks (.xlsx). One row per facility: a facility column
    /// (facility_code, 施設コード, 事業所番号, 医療機関コード) or the form's 管理No (form_code),
    /// and one column per answer, named by field key (q08, q04.full, q16.10), by option for
    /// multiple choice (q06_1 holding 1, ○, ✓ or blank), by printed number (問8, 問4 常勤) or by
    /// the question text. Other layouts need a --mapping file. Columns that match nothing are
    /// reported and not imported. The full conventions are in docs/replies-format.md.
    ///
    /// Values are normalised (full-width digits, 1,234, あり/なし, ○/×, option labels, several
    /// answers separated by 、 , ; or line breaks, 「−」 for わからない, blank for 無回答). A value
    /// that does not fit its question goes to review with the raw text, file, row and column;
    /// the rest of the row is stored. A row whose facility is unknown is reported, not stored.
    ///
    /// Each file is imported in one transaction, in the order given. A file already imported
    /// (same bytes) is skipped. A newer reply from the same facility supersedes the older one,
    /// which stays as history; a value that differs from a FAX or scanned reply is kept for
    /// review beside it instead of overwriting it.
    ///
    /// Exit status: 0 when every file was imported or skipped (rows may still have been
    /// reported), 1 when any file could not be imported at all.
    #[command(
        after_help = "Examples:\n  capsurvey replies import replies/*.csv\n  capsurvey replies import --survey dental 回答_歯科.xlsx\n  capsurvey replies import --mapping consultant.mapping.toml batch.csv"
    )]
    Import {
        /// Reply files: .csv, .tsv, .txt, or .xlsx.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The survey the files answer (dental, homecare-clinic, visiting-nurse). Without it the
        /// survey is taken from a `survey` column or from which survey's questions the header
        /// matches; an unclear header is an error asking for --survey.
        #[arg(long, value_name = "ID")]
        survey: Option<String>,
        /// A mapping file (TOML) for a foreign layout: column names to field keys, and foreign
        /// spellings of values to option codes. See docs/replies-format.md.
        #[arg(long, value_name = "FILE")]
        mapping: Option<PathBuf>,
    },
}

/// Runs a replies command.
pub async fn run(ctx: &Ctx, cmd: RepliesCmd) -> Result<ExitCode> {
    match cmd {
        RepliesCmd::Import {
            files,
            survey,
            mapping,
        } => import(ctx, files, survey, mapping).await,
    }
}

async fn import(
    ctx: &Ctx,
    files: Vec<PathBuf>,
    survey: Option<String>,
    mapping: Option<PathBuf>,
) -> Result<ExitCode> {
    let parsed = surveys::load_all(&ctx.surveys_dir)?;
    if let Some(id) = &survey {
        // Fails early, naming the surveys there are.
        surveys::find(&ctx.surveys_dir, id)?;
    }
    let catalog = Arc::new(Catalog::new(parsed));
    let mut opts = ImportOptions::new(&ctx.actor);
    opts.read.survey = survey;
    if let Some(m) = &mapping {
        let m = Mapping::read(m).with_context(|| "the --mapping file cannot be used".to_owned())?;
        opts.read.mapping = Some(Arc::new(m));
    }
    let store = ctx.store().await?;

    let total: u64 = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .sum();
    let bar = if std::io::stderr().is_terminal() {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(
                "{spinner} {msg:30!} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        b
    } else {
        ProgressBar::hidden()
    };
    let mut done_bytes = 0u64;
    let mut file_start = 0u64;
    let mut current = 0usize;
    let sizes: Vec<u64> = files
        .iter()
        .map(|f| std::fs::metadata(f).map_or(0, |m| m.len()))
        .collect();
    let mut on_progress = |p: Progress<'_>| match p {
        Progress::File { index, path } => {
            file_start = done_bytes;
            current = index;
            bar.set_message(path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ));
        }
        Progress::Bytes(n) => {
            done_bytes += n;
            bar.set_position(done_bytes.min(total));
        }
        Progress::Done(report) => {
            // Skipped and failed files are done at once: count their whole size.
            done_bytes = file_start + sizes.get(current).copied().unwrap_or(0);
            bar.set_position(done_bytes.min(total));
            bar.suspend(|| print_report(report));
        }
    };
    let reports = import_files(&store, catalog, &files, &opts, &mut on_progress).await;
    bar.finish_and_clear();
    Ok(print_totals(&reports))
}

fn print_report(r: &FileReport) {
    match &r.outcome {
        Outcome::Failed { error } => {
            eprintln!("error: {}: {error}", r.path);
            eprintln!("  nothing from this file was imported");
            return;
        }
        Outcome::Skipped {
            previous_path,
            imported_at,
        } => {
            println!(
                "{}: skipped, the same file was imported on {} (as {previous_path})",
                r.path,
                imported_at.get(..10).unwrap_or(imported_at)
            );
            return;
        }
        Outcome::Imported => {}
    }
    println!(
        "{}: imported as {} — {}; {}",
        r.path,
        r.survey.as_deref().unwrap_or("?"),
        r.format.as_deref().unwrap_or("?"),
        r.layout.as_deref().unwrap_or("?"),
    );
    let blank = if r.blank_rows > 0 {
        format!(", {} empty row(s) skipped", r.blank_rows)
    } else {
        String::new()
    };
    println!(
        "  rows: {} read, {} stored, {} not imported{blank}",
        r.rows,
        r.rows_stored,
        r.row_errors.len()
    );
    let a = &r.answers;
    println!(
        "  answers: {} new, {} unchanged, {} superseded (history kept), {} conflicting with another channel (to review), {} sent to review as not fitting",
        a.inserted, a.unchanged, a.superseded, a.conflicts, a.sent_to_review
    );
    if a.blank_kept_other > 0 {
        println!(
            "  {} blank cell(s) left answers from FAX or scan as they were",
            a.blank_kept_other
        );
    }
    for w in &r.warnings {
        println!("  warning: {w}");
    }
    for c in &r.damaged_cells {
        println!("  damaged cell: {c}");
    }
    for e in &r.row_errors {
        println!("  row not imported: {e}");
    }
}

fn print_totals(reports: &[FileReport]) -> ExitCode {
    let failed = reports.iter().filter(|r| r.failed()).count();
    let skipped = reports
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Skipped { .. }))
        .count();
    let imported = reports.len() - failed - skipped;
    let ok = reports.iter().filter(|r| r.outcome == Outcome::Imported);
    let (mut rows, mut not_rows, mut review, mut conflicts) = (0, 0, 0, 0);
    for r in ok {
        rows += r.rows_stored;
        not_rows += r.row_errors.len();
        review += r.answers.sent_to_review;
        conflicts += r.answers.conflicts;
    }
    println!(
        "{} file(s): {imported} imported, {skipped} skipped as already imported, {failed} failed; \
         {rows} row(s) stored, {not_rows} row(s) not imported, {} value(s) waiting for review",
        reports.len(),
        review + conflicts
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
