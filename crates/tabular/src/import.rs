//! Importing reply files into the store.
//!
//! Per file, in the order given, one transaction:
//!
//! 1. the survey version is registered (or found) — a changed definition under an old version
//!    number fails the file;
//! 2. a file whose exact bytes were imported before (kind `replies`) is skipped: importing the
//!    same file again changes nothing;
//! 3. each row's facility is found by its code (or its form's 管理No); an unknown facility is
//!    reported with the row, which is not stored, and the rest of the file goes on;
//! 4. every answer goes through the store's rules: new values are inserted, equal values are
//!    unchanged, a different value from an earlier CSV supersedes it (history kept), a different
//!    value from another channel (FAX) becomes a conflict for review; a value that does not fit
//!    its question goes to review with its raw text, file, row and column;
//! 5. a summary is stored with the file and written to the audit log.
//!
//! A file that cannot be read as a whole (undecodable, truncated, no facility column) is rolled
//! back entirely and reported; the other files are still imported. Every data row of an imported
//! file is either stored or reported in [`FileReport::row_errors`].
//!
//! Parsing runs ahead of writing: a few files are opened and parsed on their own threads (each
//! parsing its blocks with rayon) and hand chunks to the writer through bounded channels, so
//! memory stays bounded however large the files are.
//!
//! Speed: the rules need the accepted value of each field. Rather than asking per answer, the
//! writer loads the accepted answers of a batch of rows at once (none for responses this import
//! created and has not written to yet), decides with the store's `decide` (the rules of
//! `put_answer`), inserts first values and values for review in bulk, and calls `put_answer`
//! only where a value changes (supersede or conflict), so the rules stay in one place. The
//! responses of the survey version are loaded once per file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use capsurvey_store::entity::{facilities, mailings, responses, survey_versions};
use capsurvey_store::sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryTrait, TransactionTrait,
};
use capsurvey_store::{
    Accepted, Decision, FirstAnswer, ForReview, NewTask, Put, Source, SourceKind, Store,
    StoreError, TaskKind, accepted_answers_of, audit, decide, encode_value, imported_file,
    insert_first_answers, now, put_answer, put_for_review_many, record_imported_file,
    register_survey, set_import_summary, write_failure_hint,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::{
    Catalog, Chunk, FacilityKey, FileError, Plan, ReadOptions, ReplyFile, Row, RowError, RowProblem,
};

/// The `kind` reply files are recorded under in `imported_files`.
pub const FILE_KIND: &str = "replies";

/// How to import.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Survey, mapping and block size.
    pub read: ReadOptions,
    /// Who imports, for the audit log and superseded answers.
    pub actor: String,
    /// Files parsed ahead of the one being written (default 2).
    pub lookahead: usize,
}

impl ImportOptions {
    /// Options with defaults.
    pub fn new(actor: &str) -> ImportOptions {
        ImportOptions {
            read: ReadOptions::default(),
            actor: actor.to_owned(),
            lookahead: 2,
        }
    }
}

/// What happened to the answers of a file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// First values of their fields.
    pub inserted: u64,
    /// Equal to the accepted value already stored.
    pub unchanged: u64,
    /// A newer CSV value replaced an older one (which stays as history).
    pub superseded: u64,
    /// Different from the value of another channel (FAX): kept for review beside it.
    pub conflicts: u64,
    /// Blank cells where another channel has a value: a blank does not contradict an answer,
    /// so nothing was stored.
    pub blank_kept_other: u64,
    /// Values that do not fit their question, sent to review.
    pub sent_to_review: u64,
}

/// What happened to a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Imported (possibly with row errors).
    Imported,
    /// The same bytes were imported before; nothing changed.
    Skipped {
        /// The path it was imported from then.
        previous_path: String,
        /// When.
        imported_at: String,
    },
    /// Nothing from this file was imported.
    Failed {
        /// Why.
        error: String,
    },
}

/// The summary of one file, printed by the CLI and stored with the file.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    /// The path given.
    pub path: String,
    /// Imported, skipped or failed.
    pub outcome: Outcome,
    /// Survey id and version read against.
    pub survey: Option<String>,
    /// Encoding (UTF-8, UTF-8 with BOM, Shift_JIS) or xlsx.
    pub encoding: Option<String>,
    /// Format: delimiter, line ends, sheet.
    pub format: Option<String>,
    /// How the columns were recognised.
    pub layout: Option<String>,
    /// Data rows read (blank rows not counted).
    pub rows: u64,
    /// Rows stored.
    pub rows_stored: u64,
    /// Rows with every cell empty, skipped.
    pub blank_rows: u64,
    /// What happened to the answers.
    pub answers: Counts,
    /// Rows not stored: `file:line: reason`.
    pub row_errors: Vec<String>,
    /// Columns not imported and other notes on the header.
    pub warnings: Vec<String>,
    /// Cells far longer than any answer (a damaged file), `file:line (row N), column C:
    /// reason`; their values went to review with the start of the text.
    pub damaged_cells: Vec<String>,
    /// The `imported_files` row, once imported.
    pub imported_file_id: Option<i64>,
}

impl FileReport {
    fn new(path: &Path) -> FileReport {
        FileReport {
            path: path.display().to_string(),
            outcome: Outcome::Imported,
            survey: None,
            encoding: None,
            format: None,
            layout: None,
            rows: 0,
            rows_stored: 0,
            blank_rows: 0,
            answers: Counts::default(),
            row_errors: Vec::new(),
            warnings: Vec::new(),
            damaged_cells: Vec::new(),
            imported_file_id: None,
        }
    }

    /// Whether nothing from the file was imported because of an error.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed { .. })
    }
}

/// Progress of an import, for a progress bar.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A file is being written.
    File {
        /// Its position in the list.
        index: usize,
        /// Its path.
        path: &'a Path,
    },
    /// More bytes of the current file are done.
    Bytes(u64),
    /// A file is finished.
    Done(&'a FileReport),
}

/// What a parser thread sends to the writer.
enum Msg {
    Opened {
        hash: String,
        size: u64,
        format: crate::Format,
        plan: Arc<Plan>,
    },
    Chunk(Chunk),
    Failed(FileError),
    Done,
}

fn spawn_parser(path: PathBuf, catalog: Arc<Catalog>, read: ReadOptions) -> mpsc::Receiver<Msg> {
    // Two chunks in the channel plus the wave being parsed: memory per file stays a few MiB.
    let (tx, rx) = mpsc::channel(2);
    std::thread::spawn(move || {
        let (hash, size) = match capsurvey_store::file_hash(&path) {
            Ok(h) => h,
            Err(e) => {
                let _ = tx.blocking_send(Msg::Failed(FileError::Io(e)));
                return;
            }
        };
        let mut file = match ReplyFile::open(&path, &catalog, &read) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Msg::Failed(e));
                return;
            }
        };
        let opened = Msg::Opened {
            hash,
            size,
            format: file.format.clone(),
            plan: Arc::clone(&file.plan),
        };
        if tx.blocking_send(opened).is_err() {
            return;
        }
        for chunk in file.by_ref() {
            let msg = match chunk {
                Ok(c) => Msg::Chunk(c),
                Err(e) => Msg::Failed(e),
            };
            // The writer hangs up when it skips or abandons the file: stop parsing then.
            if tx.blocking_send(msg).is_err() {
                return;
            }
        }
        let _ = tx.blocking_send(Msg::Done);
    });
    rx
}

/// Imports files in the order given; never stops at a bad file. Returns one report per file.
pub async fn import_files(
    store: &Store,
    catalog: Arc<Catalog>,
    files: &[PathBuf],
    opts: &ImportOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Vec<FileReport> {
    let mut pending: std::collections::VecDeque<mpsc::Receiver<Msg>> = Default::default();
    let mut started = 0;
    let mut reports = Vec::with_capacity(files.len());
    for (i, path) in files.iter().enumerate() {
        while started < files.len() && started <= i + opts.lookahead {
            pending.push_back(spawn_parser(
                files[started].clone(),
                Arc::clone(&catalog),
                opts.read.clone(),
            ));
            started += 1;
        }
        let rx = pending.pop_front().expect("a parser per file");
        progress(Progress::File { index: i, path });
        let report = import_one(store, path, rx, opts, progress).await;
        progress(Progress::Done(&report));
        reports.push(report);
    }
    reports
}

/// Errors that abandon a file.
#[derive(Debug)]
enum Abandon {
    File(FileError),
    Store(StoreError),
}

impl From<StoreError> for Abandon {
    fn from(e: StoreError) -> Self {
        Abandon::Store(e)
    }
}

impl From<DbErr> for Abandon {
    fn from(e: DbErr) -> Self {
        Abandon::Store(StoreError::Db(e))
    }
}

impl std::fmt::Display for Abandon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Abandon::File(e) => write!(f, "{e}"),
            Abandon::Store(e) => write!(f, "{e}"),
        }
    }
}

async fn import_one(
    store: &Store,
    path: &Path,
    mut rx: mpsc::Receiver<Msg>,
    opts: &ImportOptions,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> FileReport {
    let mut report = FileReport::new(path);
    let (hash, size, plan) = match rx.recv().await {
        Some(Msg::Opened {
            hash,
            size,
            format,
            plan,
        }) => {
            report.encoding = Some(format.encoding());
            report.format = Some(format.to_string());
            report.layout = Some(plan.layout());
            report.warnings = plan.warnings.clone();
            let s = &plan.index.parsed.survey;
            report.survey = Some(format!("{} v{}", s.id, s.version));
            (hash, size, plan)
        }
        Some(Msg::Failed(e)) => {
            report.outcome = Outcome::Failed {
                error: e.to_string(),
            };
            return report;
        }
        _ => {
            report.outcome = Outcome::Failed {
                error: "the file could not be read (its parser stopped)".into(),
            };
            return report;
        }
    };
    let txn = match store.db().begin().await {
        Ok(t) => t,
        Err(e) => {
            let e = format!("database error: {e}");
            let hint = write_failure_hint(&e);
            report.outcome = Outcome::Failed {
                error: format!("{e}{hint}"),
            };
            return report;
        }
    };
    let result = write_file(
        &txn,
        path,
        &mut rx,
        &hash,
        size,
        &plan,
        opts,
        &mut report,
        progress,
    )
    .await;
    match result {
        Ok(true) => {
            if let Err(e) = txn.commit().await {
                let e = format!("database error at commit: {e}");
                let hint = write_failure_hint(&e);
                report.outcome = Outcome::Failed {
                    error: format!("{e}{hint}"),
                };
                report.imported_file_id = None;
            }
        }
        Ok(false) => {
            // Skipped: nothing was written.
            let _ = txn.rollback().await;
        }
        Err(e) => {
            let _ = txn.rollback().await;
            let e = e.to_string();
            let hint = write_failure_hint(&e);
            report.outcome = Outcome::Failed {
                error: format!("{e}{hint}"),
            };
            report.imported_file_id = None;
        }
    }
    report
}

/// Writes one file inside `txn`; `Ok(false)` if it was skipped as already imported.
#[allow(clippy::too_many_arguments)]
async fn write_file(
    txn: &DatabaseTransaction,
    path: &Path,
    rx: &mut mpsc::Receiver<Msg>,
    hash: &str,
    size: u64,
    plan: &Arc<Plan>,
    opts: &ImportOptions,
    report: &mut FileReport,
    progress: &mut (dyn FnMut(Progress<'_>) + Send),
) -> Result<bool, Abandon> {
    let version = register_survey(txn, &plan.index.parsed, &opts.actor).await?;
    if let Some(prev) = imported_file(txn, FILE_KIND, hash).await? {
        report.outcome = Outcome::Skipped {
            previous_path: prev.path,
            imported_at: prev.imported_at.to_rfc3339(),
        };
        report.imported_file_id = Some(prev.id);
        return Ok(false);
    }
    let record =
        record_imported_file(txn, FILE_KIND, &path.display().to_string(), hash, size).await?;
    report.imported_file_id = Some(record.id);
    let file_name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let mut w = Writer {
        txn,
        plan,
        version,
        file_id: record.id,
        file_name,
        actor: &opts.actor,
        facilities: HashMap::new(),
        forms: HashMap::new(),
        responses: None,
        fresh: HashSet::new(),
        field_index: plan
            .index
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.key.clone(), i as u16))
            .collect(),
        errors: Vec::new(),
        report,
    };
    loop {
        match rx.recv().await {
            Some(Msg::Chunk(chunk)) => {
                let bytes = chunk.bytes;
                w.chunk(chunk).await?;
                progress(Progress::Bytes(bytes));
            }
            Some(Msg::Failed(e)) => return Err(Abandon::File(e)),
            Some(Msg::Done) => break,
            Some(Msg::Opened { .. }) | None => {
                return Err(Abandon::File(FileError::Io(std::io::Error::other(
                    "the parser stopped unexpectedly",
                ))));
            }
        }
    }
    w.errors.sort_by_key(|e| e.pos.line);
    let errors = std::mem::take(&mut w.errors);
    let file_name = w.file_name.clone();
    w.report.row_errors = errors.iter().map(|e| e.display_in(&file_name)).collect();
    let summary = serde_json::to_value(&*w.report).unwrap_or_default();
    audit(
        txn,
        &opts.actor,
        "replies.import",
        "imported_files",
        Some(record.id),
        summary.clone(),
    )
    .await?;
    set_import_summary(txn, record, summary).await?;
    Ok(true)
}

/// Rows looked up and written together.
const BATCH_ROWS: usize = 1000;

#[derive(Clone, Copy)]
struct FacilityRef {
    id: i64,
    mailing: Option<i64>,
}

struct Writer<'a> {
    txn: &'a DatabaseTransaction,
    plan: &'a Plan,
    version: survey_versions::Model,
    file_id: i64,
    file_name: String,
    actor: &'a str,
    /// Facility code → (id, type), or None if not on the roster.
    facilities: HashMap<String, Option<(i64, String)>>,
    /// Form code → mailing, or None if unknown.
    forms: HashMap<String, Option<mailings::Model>>,
    /// Facility id → its response to this survey version (all of them, loaded at the first
    /// batch).
    responses: Option<HashMap<i64, responses::Model>>,
    /// Responses this import created that no batch has written to yet: they have no answers to
    /// look up.
    fresh: HashSet<i64>,
    field_index: HashMap<String, u16>,
    /// Rows not stored, reported in file order at the end.
    errors: Vec<RowError>,
    report: &'a mut FileReport,
}

impl Writer<'_> {
    async fn chunk(&mut self, chunk: Chunk) -> Result<(), Abandon> {
        self.report.blank_rows += chunk.blank;
        self.report.rows += chunk.errors.len() as u64;
        self.errors.extend(chunk.errors);
        let mut rows = chunk.rows;
        while !rows.is_empty() {
            let rest = rows.split_off(rows.len().min(BATCH_ROWS));
            self.batch(rows).await?;
            rows = rest;
        }
        Ok(())
    }

    async fn load_facilities(&mut self, rows: &[Row]) -> Result<(), Abandon> {
        let mut codes = Vec::new();
        let mut forms = Vec::new();
        for r in rows {
            let (c, f) = match r.facility() {
                FacilityKey::Code(c) => (Some(c), None),
                FacilityKey::Form(f) => (None, Some(f)),
                FacilityKey::Both { code, form } => (Some(code), Some(form)),
            };
            if let Some(c) = c.filter(|c| !self.facilities.contains_key(*c)) {
                codes.push(c.to_owned());
            }
            if let Some(f) = f.filter(|f| !self.forms.contains_key(*f)) {
                forms.push(f.to_owned());
            }
        }
        codes.sort();
        codes.dedup();
        forms.sort();
        forms.dedup();
        if !codes.is_empty() {
            let found = facilities::Entity::find()
                .filter(facilities::Column::Code.is_in(codes.clone()))
                .all(self.txn)
                .await?;
            for c in codes {
                self.facilities.insert(c, None);
            }
            for f in found {
                self.facilities
                    .insert(f.code, Some((f.id, f.facility_type)));
            }
        }
        if !forms.is_empty() {
            let found = mailings::Entity::find()
                .filter(mailings::Column::FormCode.is_in(forms.clone()))
                .all(self.txn)
                .await?;
            for f in forms {
                self.forms.insert(f, None);
            }
            for m in found {
                self.forms.insert(m.form_code.clone(), Some(m));
            }
        }
        Ok(())
    }

    /// The facility (and mailing) of a row, or why it has none.
    fn resolve(&self, key: FacilityKey<'_>) -> Result<FacilityRef, String> {
        let survey = &self.plan.index.parsed.survey;
        let by_code = |code: &str| -> Result<i64, String> {
            match self.facilities.get(code).cloned().flatten() {
                Some((id, ty)) if ty == survey.facility_type.as_str() => Ok(id),
                Some((_, ty)) => Err(format!(
                    "facility {code} is a {ty} facility on the roster, but this file answers the \
                     `{}` survey (for {})",
                    survey.id, survey.facility_type
                )),
                None => {
                    let hint = if code.len() == 9 && code.bytes().all(|b| b.is_ascii_digit()) {
                        format!(" (Excel may have dropped a leading 0: is it 0{code}?)")
                    } else {
                        String::new()
                    };
                    Err(format!(
                        "unknown facility code {code}: not on the roster{hint}"
                    ))
                }
            }
        };
        let by_form = |form: &str| -> Result<(i64, i64), String> {
            match self.forms.get(form).cloned().flatten() {
                None => Err(format!(
                    "unknown 管理No {form}: no form was sent with this number"
                )),
                Some(m) if m.survey_version_id != self.version.id => Err(format!(
                    "管理No {form} is a form of another survey or version than {} v{}",
                    survey.id, survey.version
                )),
                Some(m) => match m.facility_id {
                    Some(f) => Ok((f, m.id)),
                    None => Err(format!(
                        "管理No {form} is a blank form not sent to a facility: add the facility code"
                    )),
                },
            }
        };
        match key {
            FacilityKey::Code(c) => Ok(FacilityRef {
                id: by_code(c)?,
                mailing: None,
            }),
            FacilityKey::Form(f) => {
                let (id, mailing) = by_form(f)?;
                Ok(FacilityRef {
                    id,
                    mailing: Some(mailing),
                })
            }
            FacilityKey::Both { code, form } => {
                let id = by_code(code)?;
                match by_form(form) {
                    Ok((fid, mailing)) if fid == id => Ok(FacilityRef {
                        id,
                        mailing: Some(mailing),
                    }),
                    Ok(_) => Err(format!(
                        "管理No {form} was sent to another facility than {code}: check both columns"
                    )),
                    // A blank form or an unknown number does not matter when the code is known.
                    Err(_) => Ok(FacilityRef { id, mailing: None }),
                }
            }
        }
    }

    /// Makes sure every facility of `refs` has its response (created on first use).
    async fn load_responses(&mut self, refs: &[FacilityRef]) -> Result<(), Abandon> {
        if self.responses.is_none() {
            // One query for the whole version: asking per batch for the responses of some
            // facilities costs a scan of them all each time on PostgreSQL, whose plan for a
            // long IN list does not use the index while the table has no statistics yet.
            let all = responses::Entity::find()
                .filter(responses::Column::SurveyVersionId.eq(self.version.id))
                .all(self.txn)
                .await?;
            self.responses = Some(all.into_iter().map(|r| (r.facility_id, r)).collect());
        }
        let known = self.responses.as_mut().expect("loaded above");
        let mut new: Vec<FacilityRef> = Vec::new();
        for r in refs {
            if !known.contains_key(&r.id) && !new.iter().any(|n| n.id == r.id) {
                new.push(*r);
            }
        }
        if new.is_empty() {
            return Ok(());
        }
        let t = now();
        let models = new.iter().map(|f| responses::ActiveModel {
            survey_version_id: Set(self.version.id),
            facility_id: Set(f.id),
            mailing_id: Set(f.mailing),
            status: Set("partial".into()),
            created_at: Set(t),
            updated_at: Set(t),
            ..Default::default()
        });
        let mut insert = responses::Entity::insert_many(models).into_query();
        insert.returning_all();
        for row in self.txn.query_all(&insert).await? {
            let r = responses::Model::from_query_result(&row, "")?;
            self.fresh.insert(r.id);
            known.insert(r.facility_id, r);
        }
        Ok(())
    }

    async fn batch(&mut self, rows: Vec<Row>) -> Result<(), Abandon> {
        self.report.rows += rows.len() as u64;
        self.load_facilities(&rows).await?;
        let mut ok = Vec::with_capacity(rows.len());
        for row in rows {
            match self.resolve(row.facility()) {
                Ok(f) => ok.push((row, f)),
                Err(reason) => {
                    self.errors.push(RowError {
                        pos: row.pos,
                        problem: RowProblem::Unmatched(reason),
                    });
                }
            }
        }
        let refs: Vec<FacilityRef> = ok.iter().map(|(_, f)| *f).collect();
        self.load_responses(&refs).await?;
        let responses = self.responses.as_ref().expect("loaded");
        let response_ids: Vec<i64> = {
            let mut v: Vec<i64> = refs.iter().map(|f| responses[&f.id].id).collect();
            v.sort_unstable();
            v.dedup();
            v
        };
        // The accepted answers of these responses, by (response, field index).
        let lookup: Vec<i64> = response_ids
            .iter()
            .copied()
            .filter(|id| !self.fresh.contains(id))
            .collect();
        let mut current: HashMap<(i64, u16), Accepted> = HashMap::new();
        if !lookup.is_empty() {
            for ((response, key), a) in accepted_answers_of(self.txn, &lookup).await? {
                if let Some(&f) = self.field_index.get(&key) {
                    current.insert((response, f), a);
                }
            }
        }
        for id in &response_ids {
            self.fresh.remove(id);
        }
        // First values, written together before anything reads the database again.
        let mut inserts: Vec<FirstAnswer<'_>> = Vec::new();
        // Misfits, queued for review together at the end.
        let mut reviews: Vec<(i64, &str, Source, NewTask)> = Vec::new();
        for (row, f) in ok {
            let response = &self.responses.as_ref().expect("loaded")[&f.id];
            for answer in &row.answers {
                let key = self.plan.field_key(answer.field as usize);
                let value = self.plan.value(&row, answer);
                let column = match &value {
                    Err(p) => p.column.clone(),
                    Ok(_) => self.plan.column_of(answer.field as usize),
                };
                let src = Source {
                    kind: SourceKind::Csv,
                    source_ref: format!("{} row {} col {column}", self.file_name, row.pos.row),
                    scanned_page_id: None,
                    imported_file_id: Some(self.file_id),
                    row_number: Some(row.pos.row as i64),
                    person: None,
                };
                let value = match value {
                    Ok(value) => value,
                    Err(problem) => {
                        if problem.raw_chars.is_some() {
                            let at = if row.pos.row == row.pos.line {
                                format!("{}", row.pos.line)
                            } else {
                                format!("{} (row {})", row.pos.line, row.pos.row)
                            };
                            self.report.damaged_cells.push(format!(
                                "{}:{at}, column {}: {}; sent to review",
                                self.file_name, problem.column, problem.reason
                            ));
                        }
                        let payload = serde_json::json!({
                            "raw": problem.raw,
                            "file": self.file_name,
                            "row": row.pos.row,
                            "line": row.pos.line,
                            "column": problem.column,
                            "reason": problem.reason,
                        });
                        let task = NewTask {
                            kind: TaskKind::Value,
                            survey_version_id: Some(self.version.id),
                            response_id: Some(response.id),
                            field_key: Some(key.to_owned()),
                            answer_id: None,
                            scanned_page_id: None,
                            payload,
                            // The same misfit of the same facility is queued once, even when
                            // a batch is sent again as another file.
                            dedup_key: format!(
                                "csv-value:{}:{key}:{}",
                                response.id,
                                &hex::encode(Sha256::digest(problem.raw.as_bytes()))[..16]
                            ),
                        };
                        reviews.push((f.id, key, src, task));
                        self.report.answers.sent_to_review += 1;
                        continue;
                    }
                };
                let encoded = encode_value(&value);
                let slot = (response.id, answer.field);
                let cur = current.get(&slot);
                match decide(cur, encoded.as_deref(), &src) {
                    Decision::Insert => {
                        current.insert(
                            slot,
                            Accepted {
                                // Known once inserted; the rules look at the value and channel.
                                id: 0,
                                value: encoded.clone(),
                                source_kind: Some(SourceKind::Csv),
                                scanned_page_id: None,
                            },
                        );
                        inserts.push(FirstAnswer {
                            response_id: response.id,
                            field_key: key,
                            value: encoded,
                            confidence: None,
                            src,
                        });
                        self.report.answers.inserted += 1;
                    }
                    Decision::Unchanged(_) => self.report.answers.unchanged += 1,
                    // A blank cell does not contradict another channel's answer.
                    _ if encoded.is_none()
                        && cur.is_some_and(|c| {
                            c.source_kind.is_some_and(|k| k != SourceKind::Csv)
                        }) =>
                    {
                        self.report.answers.blank_kept_other += 1;
                    }
                    Decision::Supersede(_) | Decision::Conflict(_) => {
                        // A change: the store writes it (supersede or conflict), reading the
                        // database, so earlier first values go in first.
                        flush(self.txn, &mut inserts).await?;
                        let put =
                            put_answer(self.txn, response, key, value, None, &src, self.actor)
                                .await?;
                        let accepted = |id| Accepted {
                            id,
                            value: encoded.clone(),
                            source_kind: Some(SourceKind::Csv),
                            scanned_page_id: None,
                        };
                        match put {
                            Put::Inserted(id) => {
                                self.report.answers.inserted += 1;
                                current.insert(slot, accepted(id));
                            }
                            Put::Unchanged(_) => self.report.answers.unchanged += 1,
                            Put::Superseded { new, .. } => {
                                self.report.answers.superseded += 1;
                                current.insert(slot, accepted(new));
                            }
                            Put::Conflict { .. } => self.report.answers.conflicts += 1,
                        }
                    }
                }
            }
            self.report.rows_stored += 1;
        }
        flush(self.txn, &mut inserts).await?;
        if !reviews.is_empty() {
            let responses = self.responses.as_ref().expect("loaded");
            let items = reviews
                .iter()
                .map(|(facility, key, src, task)| ForReview {
                    response: &responses[facility],
                    field_key: key,
                    guess: None,
                    confidence: None,
                    src,
                    task: task.clone(),
                })
                .collect();
            put_for_review_many(self.txn, items).await?;
        }
        Ok(())
    }
}

/// Writes the first values gathered so far.
async fn flush(
    txn: &DatabaseTransaction,
    inserts: &mut Vec<FirstAnswer<'_>>,
) -> Result<(), Abandon> {
    if !inserts.is_empty() {
        insert_first_answers(txn, std::mem::take(inserts)).await?;
    }
    Ok(())
}

/// Reads a file without a database: rows and row errors, for checks and benchmarks.
pub fn read_all(
    path: &Path,
    catalog: &Catalog,
    opts: &ReadOptions,
) -> Result<(ReplyFile, Vec<Row>, Vec<RowError>), FileError> {
    let mut file = ReplyFile::open(path, catalog, opts)?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    while let Some(chunk) = file.next_chunk() {
        let chunk = chunk?;
        rows.extend(chunk.rows);
        errors.extend(chunk.errors);
    }
    Ok((file, rows, errors))
}
