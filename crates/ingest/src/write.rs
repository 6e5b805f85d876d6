//! Storing processed pages: one file per transaction, following the answer rules of
//! [`capsurvey_store::answers`].

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::time::Instant;

use capsurvey_layout::Rect;
use capsurvey_scan::{FieldStatus, Identified, PageReading};
use capsurvey_store::entity::{imported_files, mailings, responses};
use capsurvey_store::sea_orm::{DatabaseTransaction, TransactionTrait as _};
use capsurvey_store::{
    Decision, FirstAnswer, ForReview, NewPage, NewTask, Put, Source, SourceKind, Store, StoreError,
    TaskKind, accepted_answers_of, audit, decide, encode_value, insert_first_answers, insert_page,
    mailing_by_id, open_task, page_by_hash, pages_of_mailing, put_answer, put_for_review_many,
    record_imported_file, response_for, set_import_summary, set_response_status,
};
use capsurvey_survey::FieldKind;
use serde_json::json;

use crate::catalog::{Catalog, Version};
use crate::page::{Crop, PAGE_PX_PER_MM, PageOutcome, ProcessedPage, guess, to_pixels};
use crate::{BoxReport, CodeReport, FILE_KIND, FileReport, IngestOptions, Outcome, PageReport};

/// The writer of one ingest run.
pub struct Writer<'a> {
    store: &'a Store,
    catalog: &'a Catalog,
    opts: &'a IngestOptions,
    current: Option<Current>,
    mailings: BTreeSet<i64>,
}

/// The file being written.
struct Current {
    txn: DatabaseTransaction,
    record: imported_files::Model,
    /// Mailings to remember only once the file commits.
    mailings: BTreeSet<i64>,
    /// The pages of one reply come together: their mailing and response, looked up once.
    replies: HashMap<i64, (Option<mailings::Model>, Option<responses::Model>)>,
    /// The file's absolute path, so that a page assigned later can be read again from anywhere.
    source_file: String,
}

/// Why a page could not be stored (the file's transaction is then rolled back).
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An image could not be written to the data folder.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

impl From<capsurvey_store::sea_orm::DbErr> for WriteError {
    fn from(e: capsurvey_store::sea_orm::DbErr) -> Self {
        WriteError::Store(StoreError::Db(e))
    }
}

impl<'a> Writer<'a> {
    /// A writer into `store`.
    pub fn new(store: &'a Store, catalog: &'a Catalog, opts: &'a IngestOptions) -> Writer<'a> {
        Writer {
            store,
            catalog,
            opts,
            current: None,
            mailings: BTreeSet::new(),
        }
    }

    /// Rolls back a file left open (its end never came).
    pub fn abandon_open(&mut self) {
        self.current = None;
    }

    /// Mailings whose pages this run stored.
    pub fn mailings_touched(&self) -> &BTreeSet<i64> {
        &self.mailings
    }

    async fn begin(
        &mut self,
        path: &Path,
        hash: &str,
        size: u64,
        report: &mut FileReport,
    ) -> Result<(), StoreError> {
        if self.current.is_some() {
            return Ok(());
        }
        let txn = self.store.db().begin().await?;
        let record =
            record_imported_file(&txn, FILE_KIND, &path.display().to_string(), hash, size).await?;
        report.imported_file_id = Some(record.id);
        self.current = Some(Current {
            txn,
            record,
            mailings: BTreeSet::new(),
            replies: HashMap::new(),
            source_file: std::fs::canonicalize(path)
                .map_or_else(|_| path.display().to_string(), |p| p.display().to_string()),
        });
        Ok(())
    }

    fn abandon(&mut self, report: &mut FileReport, e: impl std::fmt::Display) {
        // Dropping the transaction rolls it back.
        self.current = None;
        let e = e.to_string();
        let hint = capsurvey_store::write_failure_hint(&e);
        report.outcome = Outcome::Failed {
            error: format!(
                "{}: nothing from this file was stored: {e}{hint}",
                report.path
            ),
        };
        report.imported_file_id = None;
        report.counts = crate::Counts::default();
    }

    /// Stores one page of the file being written (opening its transaction first).
    pub async fn page(
        &mut self,
        path: &Path,
        hash: &str,
        size: u64,
        page: ProcessedPage,
        report: &mut FileReport,
    ) {
        if report.outcome != Outcome::Imported {
            return;
        }
        let t = Instant::now();
        if let Err(e) = self.begin(path, hash, size, report).await {
            let e = WriteError::Store(e);
            if is_unique_violation(&e) {
                self.lost_race(hash, report).await;
            } else {
                self.abandon(report, e);
            }
            return;
        }
        let mut times = page.times;
        let result = self.store_page(page, report).await;
        match result {
            Ok(mut entry) => {
                times.store = t.elapsed().as_secs_f64() * 1000.0;
                report.times.add(&times);
                entry.times = times;
                if self.opts.keep_boxes || entry.status != "identified" {
                    report.pages.push(entry);
                }
            }
            Err(e) if is_unique_violation(&e) => self.lost_race(hash, report).await,
            Err(e) => self.abandon(report, e),
        }
    }

    /// Another ingest stored the same page first (two processes on the same files): this file's
    /// transaction is rolled back; if the other one recorded the file, it is simply skipped.
    async fn lost_race(&mut self, hash: &str, report: &mut FileReport) {
        self.current = None;
        report.counts = crate::Counts::default();
        report.imported_file_id = None;
        match capsurvey_store::imported_file(self.store.db(), FILE_KIND, hash).await {
            Ok(Some(prev)) => {
                report.outcome = Outcome::Skipped {
                    previous_path: format!("{} (by another ingest at the same time)", prev.path),
                };
                report.imported_file_id = Some(prev.id);
            }
            _ => {
                report.outcome = Outcome::Failed {
                    error: format!(
                        "{}: another ingest was storing the same pages at the same time; \
                         nothing from this file was stored, run the command again",
                        report.path
                    ),
                };
            }
        }
    }

    /// Commits the file.
    pub async fn finish_file(&mut self, report: &mut FileReport) {
        if report.outcome != Outcome::Imported {
            self.current = None;
            return;
        }
        if self.current.is_none() {
            // A file with no pages: still recorded, so that it is not read again.
            let Some((hash, size)) = report_hash(report) else {
                return;
            };
            let path = std::path::PathBuf::from(&report.path);
            if let Err(e) = self.begin(&path, &hash, size, report).await {
                self.abandon(report, e);
                return;
            }
        }
        let cur = self.current.take().expect("begun");
        let summary = json!({"counts": report.counts, "errors": report.errors});
        let result = async {
            // Whether each reply touched is complete, once all its pages of this file are in.
            for (mailing_id, (_, response)) in &cur.replies {
                if let Some(response) = response
                    && let Some(version) = self.catalog.get(response.survey_version_id)
                {
                    update_response_status(&cur.txn, version, response.clone(), *mailing_id)
                        .await?;
                }
            }
            audit(
                &cur.txn,
                &self.opts.actor,
                "scan.ingest",
                "imported_files",
                Some(cur.record.id),
                summary.clone(),
            )
            .await?;
            set_import_summary(&cur.txn, cur.record.clone(), summary).await?;
            cur.txn.commit().await?;
            Ok::<(), StoreError>(())
        }
        .await;
        match result {
            Ok(()) => {
                self.mailings.extend(cur.mailings);
            }
            Err(StoreError::Db(e))
                if matches!(
                    e.sql_err(),
                    Some(capsurvey_store::sea_orm::SqlErr::UniqueConstraintViolation(
                        _
                    ))
                ) =>
            {
                let hash = report_hash(report).map(|h| h.0).unwrap_or_default();
                self.lost_race(&hash, report).await;
            }
            Err(e) => self.abandon(report, e),
        }
    }

    async fn store_page(
        &mut self,
        p: ProcessedPage,
        report: &mut FileReport,
    ) -> Result<PageReport, WriteError> {
        let mut entry = PageReport {
            page_index: p.index,
            status: String::new(),
            hash: p.hash.clone(),
            code: None,
            response_id: None,
            transform: None,
            upside_down: None,
            message: None,
            boxes: Vec::new(),
            calibration: None,
            times: p.times,
        };
        let where_ = format!("{} p{}", report.path, p.index + 1);
        let Some(hash) = p.hash.clone() else {
            if let PageOutcome::Failed { error } = p.outcome {
                report.counts.page_errors += 1;
                report.errors.push(error.clone());
                entry.status = "error".into();
                entry.message = Some(error);
            }
            return Ok(entry);
        };
        report.counts.pages += 1;
        let cur = self.current.as_mut().expect("begun");
        let txn = &cur.txn;
        if let Some(prev) = page_by_hash(txn, &hash).await? {
            report.counts.duplicates += 1;
            entry.status = "duplicate".into();
            entry.message = Some(format!(
                "the same page as {} p{}, received before: nothing changed",
                prev.source_file,
                prev.page_index + 1
            ));
            return Ok(entry);
        }
        if let PageOutcome::Calibration { report: cal } = &p.outcome {
            report.counts.calibration += 1;
            report.calibration.push((p.index + 1, (**cal).clone()));
            entry.status = "calibration".into();
            entry.calibration = Some((**cal).clone());
            return Ok(entry);
        }
        let image = match &p.image {
            Some(png) => Some(save(
                &self.opts.data_dir,
                &format!("pages/{hash}.png"),
                png,
            )?),
            None => None,
        };
        let new_page = |status: &str| NewPage {
            content_hash: hash.clone(),
            imported_file_id: Some(cur.record.id),
            source_file: cur.source_file.clone(),
            page_index: p.index as i32,
            status: status.to_owned(),
            image_path: image.clone(),
            ..Default::default()
        };
        let page_task = |page_id: i64, reason: &str, extra: serde_json::Value| {
            let mut payload = json!({
                "image": image,
                "file": report.path,
                "page_index": p.index,
                "reason": reason,
            });
            if let (Some(o), Some(e)) = (payload.as_object_mut(), extra.as_object()) {
                o.extend(e.clone());
            }
            NewTask {
                kind: TaskKind::Page,
                survey_version_id: extra["survey_version_id"].as_i64(),
                response_id: None,
                field_key: None,
                answer_id: None,
                scanned_page_id: Some(page_id),
                payload,
                dedup_key: format!("page:{hash}"),
            }
        };
        let (id, reading, crops) = match p.outcome {
            PageOutcome::Failed { .. } | PageOutcome::Calibration { .. } => unreachable!(),
            PageOutcome::Unidentified { reason } => {
                let page = insert_page(txn, new_page("unidentified")).await?;
                open_task(txn, page_task(page.id, &reason, json!({}))).await?;
                report.counts.unidentified += 1;
                entry.status = "unidentified".into();
                entry.message = Some(reason);
                return Ok(entry);
            }
            PageOutcome::UnknownCode { code, reason } => {
                let page = insert_page(txn, new_page("unidentified")).await?;
                open_task(txn, page_task(page.id, &reason, json!({}))).await?;
                report.counts.unidentified += 1;
                entry.status = "unknown_code".into();
                entry.code = Some(code_report(&code));
                entry.message = Some(reason);
                return Ok(entry);
            }
            PageOutcome::Cover { id } => (id, None, Vec::new()),
            PageOutcome::Questions { id, reading, crops } => (id, Some(reading), crops),
        };
        entry.code = Some(code_report(&id.code));
        entry.transform = Some(id.summary);
        entry.upside_down = Some(id.upside_down);
        let version = self
            .catalog
            .get(id.code.survey_version_id as i64)
            .expect("identified pages name a known version");
        let sv = version.id;
        let mailing = match id.code.mailing_id {
            0 => None,
            m => match cur.replies.get(&(m as i64)) {
                Some((mailing, _)) => mailing.clone(),
                None => {
                    let found = mailing_by_id(txn, m as i64)
                        .await?
                        .filter(|m| m.survey_version_id == sv);
                    cur.replies.insert(m as i64, (found.clone(), None));
                    found
                }
            },
        };
        let Some(mailing) = mailing else {
            let reason = format!(
                "the page code names mailing {} of {}, which this database has no record of",
                id.code.mailing_id,
                version.label()
            );
            let page = insert_page(txn, new_page("unidentified")).await?;
            open_task(txn, page_task(page.id, &reason, json!({}))).await?;
            report.counts.unidentified += 1;
            entry.status = "unknown_code".into();
            entry.message = Some(reason);
            return Ok(entry);
        };
        let Some(facility_id) = mailing.facility_id else {
            // A blank form: survey and page are known, the facility is for a person to say.
            let reason = "a blank form (no facility printed): choose the facility";
            let mut np = new_page("unidentified");
            np.survey_version_id = Some(sv);
            np.mailing_id = Some(mailing.id);
            np.page_number = Some(id.code.page as i32);
            np.transform = Some(transform_json(&id));
            let page = insert_page(txn, np).await?;
            let extra = json!({"survey_version_id": sv, "page_number": id.code.page});
            open_task(txn, page_task(page.id, reason, extra)).await?;
            report.counts.unidentified += 1;
            entry.status = "blank_form".into();
            entry.message = Some(reason.into());
            return Ok(entry);
        };
        let mut np = new_page("identified");
        np.survey_version_id = Some(sv);
        np.mailing_id = Some(mailing.id);
        np.page_number = Some(id.code.page as i32);
        np.transform = Some(transform_json(&id));
        let page = insert_page(txn, np).await?;
        report.counts.identified += 1;
        cur.mailings.insert(mailing.id);
        let response = match cur.replies.get(&mailing.id).and_then(|r| r.1.clone()) {
            Some(r) => r,
            None => {
                let r = response_for(txn, sv, facility_id, Some(mailing.id)).await?;
                if let Some(entry) = cur.replies.get_mut(&mailing.id) {
                    entry.1 = Some(r.clone());
                }
                r
            }
        };
        entry.response_id = Some(response.id);
        entry.status = "identified".into();
        let Some(reading) = reading else {
            report.counts.covers += 1;
            entry.status = "cover".into();
            return Ok(entry);
        };
        let ctx = PageCtx {
            txn,
            version,
            response: &response,
            page_id: page.id,
            hash: &hash,
            where_: &where_,
            file_id: Some(cur.record.id),
            data_dir: &self.opts.data_dir,
            actor: &self.opts.actor,
        };
        store_fields(&ctx, &reading, crops, report).await?;
        if self.opts.keep_boxes {
            entry.boxes = reading
                .boxes
                .iter()
                .map(|b| BoxReport {
                    key: b.key.clone(),
                    option: b.option.clone(),
                    digit: b.digit,
                    state: b.state,
                    confidence: b.confidence,
                })
                .collect();
        }
        Ok(entry)
    }

    /// Queues quality checks over every stored survey version (the sample depends only on the
    /// answers, so this also completes a run that was cut short); returns how many were queued.
    /// Each check gets a crop of its question from the stored page image.
    pub async fn sample_quality(&self) -> Result<u64, WriteError> {
        let mut queued = 0;
        let mut cache: Option<(String, image::GrayImage)> = None;
        for version in self.catalog.versions() {
            let pages: HashMap<i64, (String, u32)> =
                capsurvey_store::pages_of_version(self.store.db(), version.id)
                    .await?
                    .into_iter()
                    .filter_map(|p| Some((p.id, (p.image_path?, p.page_number? as u32))))
                    .collect();
            if pages.is_empty() {
                continue;
            }
            // Another ingest sampling at the same moment may queue the same check first (its
            // dedup key is taken): sampling again then finds it and goes on.
            let mut attempt = 0;
            let tasks = loop {
                let result = capsurvey_store::review::sample_quality_checks_with(
                    self.store.db(),
                    version.id,
                    self.opts.quality_share,
                    |answer| {
                        let Some((image, page_no)) =
                            answer.scanned_page_id.and_then(|p| pages.get(&p))
                        else {
                            return Ok(None);
                        };
                        quality_crop(
                            &self.opts.data_dir,
                            version,
                            *page_no,
                            &answer.field_key,
                            image,
                            answer.id,
                            &mut cache,
                        )
                    },
                )
                .await;
                match result {
                    Err(e) if attempt < 3 && is_unique_violation(&e) => {
                        attempt += 1;
                    }
                    other => break other?,
                }
            };
            queued += tasks.len() as u64;
        }
        Ok(queued)
    }
}

/// A unique key already taken: another transaction stored the same page or file first.
fn is_unique_violation(e: &WriteError) -> bool {
    match e {
        WriteError::Store(e) => is_unique(e),
        WriteError::Io { .. } => false,
    }
}

fn is_unique(e: &StoreError) -> bool {
    match e {
        StoreError::Db(db) => matches!(
            db.sql_err(),
            Some(capsurvey_store::sea_orm::SqlErr::UniqueConstraintViolation(
                _
            ))
        ),
        _ => false,
    }
}

fn report_hash(report: &FileReport) -> Option<(String, u64)> {
    crate::identity::file_identity(Path::new(&report.path)).ok()
}

fn code_report(code: &capsurvey_layout::PageCode) -> CodeReport {
    CodeReport {
        survey_version_id: code.survey_version_id,
        mailing_id: code.mailing_id,
        page: code.page,
    }
}

fn transform_json(id: &Identified) -> String {
    json!({
        "transform": id.transform,
        "summary": id.summary,
        "upside_down": id.upside_down,
        "marks": id.marks,
        "code_copies": id.code_copies,
        "residual_mm": id.residual_mm,
    })
    .to_string()
}

/// Writes `bytes` under the data folder at `rel` (through a temporary file, so a half-written
/// image never has the final name) and returns `rel`.
///
/// The temporary name is unique to this call: two ingests of the same file at once write the same
/// crop, and a shared temporary name let one rename the other's file away.
pub fn save(data_dir: &Path, rel: &str, bytes: &[u8]) -> Result<String, WriteError> {
    use std::io::Write as _;
    let full = data_dir.join(rel);
    let io = |source: std::io::Error| WriteError::Io {
        path: full.display().to_string(),
        source,
    };
    let parent = full.parent().unwrap_or(data_dir);
    std::fs::create_dir_all(parent).map_err(io)?;
    // A full disk leaves the start of the image behind; dropping the temporary file removes it.
    let mut builder = tempfile::Builder::new();
    builder.prefix(".").suffix(".part");
    // As `fs::write` would: readable by the review site's user, not only by this one.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder.tempfile_in(parent).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.persist(&full).map_err(|e| io(e.error))?;
    Ok(rel.to_owned())
}

/// Where the fields of one read page go.
pub(crate) struct PageCtx<'a> {
    pub txn: &'a DatabaseTransaction,
    pub version: &'a Version,
    pub response: &'a responses::Model,
    pub page_id: i64,
    pub hash: &'a str,
    pub where_: &'a str,
    pub file_id: Option<i64>,
    pub data_dir: &'a Path,
    pub actor: &'a str,
}

/// Stores every field of a read page: decided ones as answers, the rest as review tasks with
/// their crops.
///
/// Batched, as the CSV import is: the response's accepted answers are loaded once, the rules of
/// [`capsurvey_store::decide`] say what each value does, first answers and review items go in
/// with one multi-row INSERT each. Only a value that replaces or contradicts an accepted one (a
/// page received again, rare) takes the one-by-one path of [`put_answer`].
pub(crate) async fn store_fields(
    ctx: &PageCtx<'_>,
    reading: &PageReading,
    crops: Vec<(String, Crop)>,
    report: &mut FileReport,
) -> Result<(), WriteError> {
    let mut crops: HashMap<String, Crop> = crops.into_iter().collect();
    let sv = ctx.version.id;
    let response_id = ctx.response.id;
    let accepted = accepted_answers_of(ctx.txn, &[response_id]).await?;
    let sources: Vec<Source> = reading
        .fields
        .iter()
        .map(|f| Source {
            kind: SourceKind::Scan,
            source_ref: format!("{} {}", ctx.where_, f.key),
            scanned_page_id: Some(ctx.page_id),
            imported_file_id: ctx.file_id,
            row_number: None,
            person: None,
        })
        .collect();
    let mut first = Vec::new();
    let mut for_review = Vec::new();
    for (f, src) in reading.fields.iter().zip(&sources) {
        match &f.status {
            FieldStatus::Decided | FieldStatus::NoAnswer => {
                let current = accepted.get(&(response_id, f.key.clone()));
                if f.value.is_none()
                    && current.is_some_and(|c| c.source_kind != Some(SourceKind::Scan))
                {
                    // Nothing marked on paper does not contradict what a CSV or a person said.
                    report.counts.fields_decided += 1;
                    continue;
                }
                let value = encode_value(&f.value);
                match decide(current, value.as_deref(), src) {
                    Decision::Insert => first.push(FirstAnswer {
                        response_id,
                        field_key: &f.key,
                        value,
                        confidence: Some(f.confidence),
                        src: src.clone(),
                    }),
                    Decision::Unchanged(_) => {}
                    Decision::Supersede(_) | Decision::Conflict(_) => {
                        let put = put_answer(
                            ctx.txn,
                            ctx.response,
                            &f.key,
                            f.value.clone(),
                            Some(f.confidence),
                            src,
                            ctx.actor,
                        )
                        .await?;
                        if matches!(put, Put::Conflict { .. }) {
                            report.counts.conflicts += 1;
                            continue;
                        }
                    }
                }
                report.counts.fields_decided += 1;
            }
            FieldStatus::Review { reason } => {
                let crop = crops.remove(&f.key);
                let guess = guess(&ctx.version.survey, &f.key, &reading.boxes);
                let mut payload = json!({
                    "guess": guess,
                    "confidence": f.confidence,
                    "reason": reason,
                });
                add_crop(ctx, &mut payload, crop)?;
                for_review.push(ForReview {
                    response: ctx.response,
                    field_key: &f.key,
                    guess,
                    confidence: None,
                    src,
                    task: review_task(TaskKind::Mark, sv, ctx, payload, "mark", &f.key),
                });
                report.counts.marks_to_review += 1;
            }
            FieldStatus::NeedsKeying => {
                let crop = crops.remove(&f.key);
                let kind = match f.kind {
                    Some(FieldKind::Count) => "count",
                    Some(FieldKind::Decimal) => "decimal",
                    _ => "text",
                };
                let mut payload = json!({"field": f.key, "kind": kind});
                add_crop(ctx, &mut payload, crop)?;
                for_review.push(ForReview {
                    response: ctx.response,
                    field_key: &f.key,
                    guess: None,
                    confidence: None,
                    src,
                    task: review_task(TaskKind::WriteIn, sv, ctx, payload, "write_in", &f.key),
                });
                report.counts.write_ins += 1;
            }
        }
    }
    insert_first_answers(ctx.txn, first).await?;
    put_for_review_many(ctx.txn, for_review).await?;
    Ok(())
}

/// A review task for one field of the page; its dedup key makes the same page read again queue
/// nothing new.
fn review_task(
    kind: TaskKind,
    sv: i64,
    ctx: &PageCtx<'_>,
    payload: serde_json::Value,
    prefix: &str,
    key: &str,
) -> NewTask {
    NewTask {
        kind,
        survey_version_id: Some(sv),
        response_id: None,
        field_key: None,
        answer_id: None,
        scanned_page_id: Some(ctx.page_id),
        payload,
        dedup_key: format!("{prefix}:{}:{key}", ctx.hash),
    }
}

/// Saves a field's crop and adds `crop`, `box` and `boxes` to its task payload.
fn add_crop(
    ctx: &PageCtx<'_>,
    payload: &mut serde_json::Value,
    crop: Option<Crop>,
) -> Result<(), WriteError> {
    let Some(crop) = crop else { return Ok(()) };
    let rel = format!("crops/{}-{}.png", ctx.hash, crop.name);
    if !ctx.data_dir.join(&rel).is_file() {
        save(ctx.data_dir, &rel, &crop.png)?;
    }
    // The box the person should look at first: an uncertain one, else a marked or cancelled one.
    let focus = crop
        .boxes
        .iter()
        .find(|b| b.state == capsurvey_scan::BoxState::Uncertain)
        .or_else(|| {
            crop.boxes
                .iter()
                .find(|b| b.state != capsurvey_scan::BoxState::Empty)
        })
        .or(crop.boxes.first());
    payload["crop"] = json!(rel);
    payload["box"] = json!(focus);
    payload["boxes"] = json!(crop.boxes);
    Ok(())
}

/// `complete` once every question page of the form has arrived, else `partial`.
pub(crate) async fn update_response_status(
    txn: &DatabaseTransaction,
    version: &Version,
    response: responses::Model,
    mailing_id: i64,
) -> Result<(), StoreError> {
    let received: BTreeSet<u32> = pages_of_mailing(txn, mailing_id)
        .await?
        .iter()
        .filter_map(|p| p.page_number.map(|n| n as u32))
        .collect();
    let complete = version
        .question_pages()
        .iter()
        .all(|n| received.contains(n));
    set_response_status(txn, response, if complete { "complete" } else { "partial" }).await
}

/// A crop of one question from a stored page image, for a quality check.
fn quality_crop(
    data_dir: &Path,
    version: &Version,
    page_no: u32,
    key: &str,
    image_rel: &str,
    answer_id: i64,
    cache: &mut Option<(String, image::GrayImage)>,
) -> Result<Option<serde_json::Value>, WriteError> {
    let Some((png, px, boxes)) =
        quality_crop_png(data_dir, version, page_no, key, image_rel, cache)
    else {
        return Ok(None);
    };
    // A crop that cannot be written (a full disk) fails the sampling: a check made without its
    // crop would never get one, while the next run makes the check whole.
    let rel = save(data_dir, &format!("crops/quality-{answer_id}.png"), &png)?;
    Ok(Some(json!({"crop": rel, "box": px, "boxes": boxes})))
}

/// The PNG of a question's area, its first box and all its boxes in the crop's pixels.
fn quality_crop_png(
    data_dir: &Path,
    version: &Version,
    page_no: u32,
    key: &str,
    image_rel: &str,
    cache: &mut Option<(String, image::GrayImage)>,
) -> Option<(Vec<u8>, Option<serde_json::Value>, Vec<serde_json::Value>)> {
    let layout = version.layout.page(page_no)?;
    let boxes: Vec<&capsurvey_layout::AnswerBox> =
        layout.boxes.iter().filter(|b| b.key == key).collect();
    let area = boxes
        .iter()
        .find_map(|b| b.question_rect)
        .or_else(|| boxes.first().map(|b| b.rect))?
        .inflate(capsurvey_layout::mm(2.0));
    if cache.as_ref().map(|c| c.0.as_str()) != Some(image_rel) {
        let img = image::open(data_dir.join(image_rel)).ok()?.to_luma8();
        *cache = Some((image_rel.to_owned(), img));
    }
    let (_, img) = cache.as_ref()?;
    let page_rect = Rect {
        x: 0.0,
        y: 0.0,
        w: 0.0,
        h: 0.0,
    };
    let (x, y, w, h) = to_pixels(&area, &page_rect, PAGE_PX_PER_MM);
    let (x, y) = (x.max(0) as u32, y.max(0) as u32);
    let w = (w.max(1) as u32).min(img.width().saturating_sub(x));
    let h = (h.max(1) as u32).min(img.height().saturating_sub(y));
    if w == 0 || h == 0 {
        return None;
    }
    let part = image::imageops::crop_imm(img, x, y, w, h).to_image();
    let mut png = Vec::new();
    part.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .ok()?;
    let px = |r: &Rect| {
        let (bx, by, bw, bh) = to_pixels(r, &area, PAGE_PX_PER_MM);
        json!({"x": bx, "y": by, "w": bw, "h": bh})
    };
    Some((
        png,
        boxes.first().map(|b| px(&b.rect)),
        boxes.iter().map(|b| px(&b.rect)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writers_of_the_same_image_at_once_all_succeed_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = vec![7u8; 256 * 1024];
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..50 {
                        save(dir.path(), "crops/same.png", &bytes).unwrap();
                    }
                });
            }
        });
        let crops = dir.path().join("crops");
        assert_eq!(std::fs::read(crops.join("same.png")).unwrap(), bytes);
        let names: Vec<_> = std::fs::read_dir(&crops)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["same.png"]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(crops.join("same.png"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(
                mode & 0o044,
                0o044,
                "readable by group and others: {mode:o}"
            );
        }
    }
}
