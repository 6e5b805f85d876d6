//! Scan ingest: faxed and scanned reply files into the store.
//!
//! [`ingest`] reads files (multi-page TIFF, PDF, PNG, JPEG) page by page in parallel
//! ([`pipeline`]), identifies and reads each page ([`page::process`], pure), and stores the
//! result ([`write`]), one file per transaction:
//!
//! - marks the machine is sure of become answers (source `scan`, with the page they came from);
//!   what it is unsure of becomes a `mark` review task with a crop of the question, handwriting
//!   a `write_in` task; a page whose code cannot be read is kept with its image as a `page` task;
//! - a page already received (same decoded pixels) changes nothing; a different copy of a page
//!   already read goes to review as a conflict where it disagrees ([`capsurvey_store::put_answer`]);
//! - a file already ingested (same bytes) is skipped;
//! - a calibration page is measured and reported ([`calibration`]), not stored;
//! - after the files, a share of what the machine decided alone is queued as quality checks,
//!   pages a person has assigned in the review site are read ([`reread`]), and forms with pages
//!   still missing are listed ([`missing`]).
//!
//! Images for the review site go under the data folder: `pages/<page hash>.png` (the whole page,
//! upright) and `crops/<page hash>-<field>.png` (one question).

#![warn(missing_docs)]

pub mod calibration;
pub mod catalog;
pub mod identity;
pub mod missing;
pub mod page;
mod pipeline;
pub mod reread;
pub mod write;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use capsurvey_store::{Store, StoreError};
use serde::Serialize;

pub use calibration::CalibrationReport;
pub use catalog::{Catalog, Version};
pub use missing::MissingPages;
pub use page::{ProcessedPage, StageTimes};
use pipeline::Msg;

/// The `kind` scanned files are recorded under in `imported_files`.
pub const FILE_KIND: &str = "scan";

/// Extensions picked up when a folder is given (a file named explicitly is read whatever its name).
pub const EXTENSIONS: &[&str] = &["tif", "tiff", "pdf", "png", "jpg", "jpeg"];

/// How to ingest.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Who ingests, for the audit log.
    pub actor: String,
    /// Where page images and crops go (the review site serves them from there).
    pub data_dir: PathBuf,
    /// Share of automatically decided fields queued as quality checks (0.01 = 1 %).
    pub quality_share: f64,
    /// Keep every box's reading in the file reports (for `--report`).
    pub keep_boxes: bool,
}

impl IngestOptions {
    /// Defaults: 1 % quality checks, no box details.
    pub fn new(actor: &str, data_dir: impl Into<PathBuf>) -> IngestOptions {
        IngestOptions {
            actor: actor.to_owned(),
            data_dir: data_dir.into(),
            quality_share: capsurvey_store::review::DEFAULT_QUALITY_SHARE,
            keep_boxes: false,
        }
    }
}

/// What became of the pages and fields of a file (or of a whole run).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Pages decoded.
    pub pages: u64,
    /// Pages identified by their code.
    pub identified: u64,
    /// Pages without a readable code (queued for a person to assign).
    pub unidentified: u64,
    /// Pages received before (same pixels): nothing changed.
    pub duplicates: u64,
    /// Cover letters (nothing to read).
    pub covers: u64,
    /// Calibration pages measured.
    pub calibration: u64,
    /// Pages that could not be decoded.
    pub page_errors: u64,
    /// Fields read with certainty and stored (including 無回答).
    pub fields_decided: u64,
    /// Fields queued for review (uncertain marks).
    pub marks_to_review: u64,
    /// Handwritten fields queued for keying.
    pub write_ins: u64,
    /// Values that disagree with another channel or another copy: queued as conflicts.
    pub conflicts: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.pages += o.pages;
        self.identified += o.identified;
        self.unidentified += o.unidentified;
        self.duplicates += o.duplicates;
        self.covers += o.covers;
        self.calibration += o.calibration;
        self.page_errors += o.page_errors;
        self.fields_decided += o.fields_decided;
        self.marks_to_review += o.marks_to_review;
        self.write_ins += o.write_ins;
        self.conflicts += o.conflicts;
    }
}

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Stored (possibly with page errors).
    Imported,
    /// The same bytes were ingested before; nothing changed.
    Skipped {
        /// The path it was ingested from then.
        previous_path: String,
    },
    /// Nothing from this file was stored.
    Failed {
        /// Why.
        error: String,
    },
}

/// One page in the `--report` file.
#[derive(Debug, Clone, Serialize)]
pub struct PageReport {
    /// 0-based index in the file.
    pub page_index: u32,
    /// `identified`, `unidentified`, `duplicate`, `cover`, `calibration`, `unknown_code`, `error`.
    pub status: String,
    /// Content hash of the decoded page.
    pub hash: Option<String>,
    /// Survey version, mailing and page from the code.
    pub code: Option<CodeReport>,
    /// The response the page belongs to.
    pub response_id: Option<i64>,
    /// The geometry found.
    pub transform: Option<capsurvey_scan::TransformSummary>,
    /// Fed upside down.
    pub upside_down: Option<bool>,
    /// Why unidentified, or the error.
    pub message: Option<String>,
    /// Every box: key, option or digit, state, confidence.
    pub boxes: Vec<BoxReport>,
    /// The calibration measurement.
    pub calibration: Option<CalibrationReport>,
    /// Time per stage, milliseconds.
    pub times: StageTimes,
}

/// A page code in a report.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CodeReport {
    /// `survey_versions.id`.
    pub survey_version_id: u32,
    /// `mailings.id` (0: none).
    pub mailing_id: u32,
    /// 1-based page.
    pub page: u32,
}

/// One box in a report.
#[derive(Debug, Clone, Serialize)]
pub struct BoxReport {
    /// Field key.
    pub key: String,
    /// Option code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// Digit position.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digit: Option<u32>,
    /// Decision.
    pub state: capsurvey_scan::BoxState,
    /// 0..1.
    pub confidence: f64,
}

/// The summary of one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path as given.
    pub path: String,
    /// Stored, skipped or failed.
    pub outcome: Outcome,
    /// Pages and fields.
    pub counts: Counts,
    /// Page errors and notes: `file p3: …`.
    pub errors: Vec<String>,
    /// Calibration pages measured in this file.
    pub calibration: Vec<(u32, CalibrationReport)>,
    /// Per page (filled in when [`IngestOptions::keep_boxes`] is set, and always for pages that
    /// were not read normally).
    pub pages: Vec<PageReport>,
    /// The `imported_files` row.
    pub imported_file_id: Option<i64>,
    /// Time per stage, milliseconds, summed over the file's pages.
    pub times: StageTimes,
}

impl FileReport {
    fn new(path: &Path) -> FileReport {
        FileReport {
            path: path.display().to_string(),
            outcome: Outcome::Imported,
            counts: Counts::default(),
            errors: Vec::new(),
            calibration: Vec::new(),
            pages: Vec::new(),
            imported_file_id: None,
            times: StageTimes::default(),
        }
    }

    /// Whether nothing from the file was stored because of an error.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }
}

/// Everything an ingest run did.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Per file, in the order given.
    pub files: Vec<FileReport>,
    /// Totals over the files.
    pub totals: Counts,
    /// Time per stage, milliseconds, over all pages.
    pub times: StageTimes,
    /// Quality checks queued.
    pub quality_checks: u64,
    /// Pages assigned by a person that were read now.
    pub reread: reread::RereadSummary,
    /// Forms of which some pages arrived and others are still missing.
    pub missing: Vec<MissingPages>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl Summary {
    /// Whether any file failed or any page could not be decoded.
    pub fn had_errors(&self) -> bool {
        self.files.iter().any(FileReport::failed) || self.totals.page_errors > 0
    }
}

/// Progress of an ingest, for a progress bar.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A page was stored (or found to be a duplicate, or failed).
    Page {
        /// Index of its file in the list.
        file: usize,
    },
    /// A file is finished.
    FileDone(&'a FileReport),
}

/// Errors that stop the run before any file is read.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The database, in a transaction.
    #[error("database error: {0}")]
    Db(#[from] capsurvey_store::sea_orm::DbErr),
    /// Writing a page.
    #[error(transparent)]
    Write(#[from] write::WriteError),
    /// The data folder cannot be created.
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Expands folders (recursively, files with [`EXTENSIONS`], sorted by name) and keeps files as
/// given; a path that does not exist is reported.
pub fn collect_inputs(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<String>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut files, &mut problems);
        } else if p.exists() {
            files.push(p.clone());
        } else {
            problems.push(format!("{}: no such file or folder", p.display()));
        }
    }
    (files, problems)
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            problems.push(format!("{}: cannot read the folder: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, files, problems);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(p);
        }
    }
}

/// Ingests `files` in the order given, never stopping at a bad file or page.
pub async fn ingest(
    store: &Store,
    files: &[PathBuf],
    opts: &IngestOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<Summary, IngestError> {
    let started = Instant::now();
    for sub in ["pages", "crops"] {
        let path = opts.data_dir.join(sub);
        std::fs::create_dir_all(&path).map_err(|source| IngestError::DataDir {
            path: path.display().to_string(),
            source,
        })?;
    }
    let catalog = Arc::new(Catalog::load(store.db()).await?);
    let mut reports: Vec<FileReport> = files.iter().map(|f| FileReport::new(f)).collect();
    // Files already ingested are known by their bytes, before any page is decoded.
    let mut todo = Vec::new();
    let mut hashes = BTreeMap::new();
    for (i, path) in files.iter().enumerate() {
        match identity::file_identity(path) {
            Err(e) => {
                reports[i].outcome = Outcome::Failed {
                    error: format!("{}: cannot read the file: {e}", path.display()),
                };
            }
            Ok((hash, size)) => {
                match identity::ingested_before(store.db(), path, &hash, size).await? {
                    Some(prev) => {
                        reports[i].outcome = Outcome::Skipped {
                            previous_path: prev.path,
                        };
                        reports[i].imported_file_id = Some(prev.id);
                    }
                    None if hashes.values().any(|(h, _)| h == &hash) => {
                        reports[i].outcome = Outcome::Skipped {
                            previous_path: "the same file earlier in this run".into(),
                        };
                    }
                    None => {
                        hashes.insert(i, (hash, size));
                        todo.push((i, path.clone()));
                    }
                }
            }
        }
    }
    let mut rx = pipeline::run(todo, Arc::clone(&catalog));
    let mut writer = write::Writer::new(store, &catalog, opts);
    let mut pending: BTreeMap<u64, Vec<Msg>> = BTreeMap::new();
    let mut next = 0u64;
    let mut ended = std::collections::BTreeSet::new();
    while let Some((seq, msgs)) = rx.recv().await {
        pending.insert(seq, msgs);
        while let Some(msgs) = pending.remove(&next) {
            next += 1;
            for msg in msgs {
                match msg {
                    Msg::FileFailed { file, error } => {
                        reports[file].outcome = Outcome::Failed { error };
                        progress(Progress::FileDone(&reports[file]));
                    }
                    Msg::Page { file, page } => {
                        let (hash, size) = &hashes[&file];
                        writer
                            .page(&files[file], hash, *size, *page, &mut reports[file])
                            .await;
                        progress(Progress::Page { file });
                    }
                    Msg::FileEnd { file } => {
                        ended.insert(file);
                        writer.finish_file(&mut reports[file]).await;
                        progress(Progress::FileDone(&reports[file]));
                    }
                }
            }
        }
    }
    // A file whose pages stopped coming without its end (the reading thread died) keeps
    // nothing, and says so.
    for i in hashes.keys() {
        if !ended.contains(i) && !reports[*i].failed() {
            reports[*i].outcome = Outcome::Failed {
                error: format!(
                    "{}: reading stopped unexpectedly; nothing from this file was stored",
                    files[*i].display()
                ),
            };
            reports[*i].counts = Counts::default();
            reports[*i].imported_file_id = None;
        }
    }
    writer.abandon_open();
    let mut summary = Summary {
        totals: Counts::default(),
        times: StageTimes::default(),
        quality_checks: 0,
        reread: reread::RereadSummary::default(),
        missing: Vec::new(),
        seconds: 0.0,
        files: Vec::new(),
    };
    for r in &reports {
        summary.totals.add(&r.counts);
        summary.times.add(&r.times);
    }
    summary.quality_checks = writer.sample_quality().await?;
    summary.reread = reread::reread_assigned(store, &catalog, opts).await?;
    summary.missing =
        missing::missing_pages(store.db(), &catalog, Some(writer.mailings_touched())).await?;
    summary.files = reports;
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}
