//! Operations shared by every import: content hashes, imported files, survey versions, audit, status.
//!
//! Every function takes any connection, so callers run them inside their import's transaction.

use capsurvey_survey::Parsed;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, Set, Statement,
};
use sha2::{Digest, Sha256};

use crate::entity::{audit_log, imported_files, survey_versions};
use crate::{Result, StoreError};

/// The time stamps are written with.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// SHA-256 of bytes, in hex: how files and pages are recognised when they come again.
pub fn content_hash(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file in hex (the same value as [`content_hash`] of its bytes) and its size,
/// read in pieces so that a large file is never held in memory.
pub fn file_hash(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    let mut h = Sha256::new();
    let size = read_in_pieces(path, |piece| h.update(piece))?;
    Ok((hex::encode(h.finalize()), size))
}

/// Hands a file's bytes to `each` a megabyte at a time (for hashing a file of any size without
/// holding it); returns its size.
pub fn read_in_pieces(path: &std::path::Path, mut each: impl FnMut(&[u8])) -> std::io::Result<u64> {
    use std::io::Read as _;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(size);
        }
        size += n as u64;
        each(&buf[..n]);
    }
}

/// Appends one row to the audit log.
pub async fn audit<C: ConnectionTrait>(
    conn: &C,
    actor: &str,
    action: &str,
    entity: &str,
    entity_id: Option<i64>,
    detail: serde_json::Value,
) -> Result<()> {
    audit_log::ActiveModel {
        at: Set(now()),
        actor: Set(actor.to_owned()),
        action: Set(action.to_owned()),
        entity: Set(entity.to_owned()),
        entity_id: Set(entity_id),
        detail: Set(detail.to_string()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// A file an import has already read, if these exact bytes were imported before as this kind.
pub async fn imported_file<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    hash: &str,
) -> Result<Option<imported_files::Model>> {
    Ok(imported_files::Entity::find()
        .filter(imported_files::Column::Kind.eq(kind))
        .filter(imported_files::Column::ContentHash.eq(hash))
        .one(conn)
        .await?)
}

/// Records a file as imported (call inside the import's transaction, so a failed import leaves no record).
pub async fn record_imported_file<C: ConnectionTrait>(
    conn: &C,
    kind: &str,
    path: &str,
    hash: &str,
    size: u64,
) -> Result<imported_files::Model> {
    Ok(imported_files::ActiveModel {
        kind: Set(kind.to_owned()),
        path: Set(path.to_owned()),
        content_hash: Set(hash.to_owned()),
        size: Set(size as i64),
        summary: Set(None),
        imported_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// Stores the summary of what an import did.
pub async fn set_import_summary<C: ConnectionTrait>(
    conn: &C,
    file: imported_files::Model,
    summary: serde_json::Value,
) -> Result<()> {
    let mut active: imported_files::ActiveModel = file.into();
    active.summary = Set(Some(summary.to_string()));
    active.update(conn).await?;
    Ok(())
}

/// Stores a survey version the first time it is used; afterwards returns the stored one.
///
/// Refuses a definition whose content changed under an old version number.
pub async fn register_survey<C: ConnectionTrait>(
    conn: &C,
    parsed: &Parsed,
    actor: &str,
) -> Result<survey_versions::Model> {
    let s = &parsed.survey;
    if let Some(existing) = survey_version(conn, &s.id, s.version).await? {
        if existing.content_hash != parsed.content_hash {
            return Err(StoreError::VersionChanged {
                survey: s.id.clone(),
                version: s.version,
                stored: existing.content_hash,
                file: parsed.content_hash.clone(),
            });
        }
        return Ok(existing);
    }
    let model = survey_versions::ActiveModel {
        survey_id: Set(s.id.clone()),
        version: Set(s.version as i32),
        content_hash: Set(parsed.content_hash.clone()),
        title: Set(s.title.clone()),
        facility_type: Set(s.facility_type.as_str().to_owned()),
        definition: Set(serde_json::to_string(s).expect("a survey always serialises")),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    audit(
        conn,
        actor,
        "survey_version.create",
        "survey_versions",
        Some(model.id),
        serde_json::json!({"survey": s.id, "version": s.version, "hash": parsed.content_hash}),
    )
    .await?;
    Ok(model)
}

/// One stored survey version.
pub async fn survey_version<C: ConnectionTrait>(
    conn: &C,
    survey_id: &str,
    version: u32,
) -> Result<Option<survey_versions::Model>> {
    Ok(survey_versions::Entity::find()
        .filter(survey_versions::Column::SurveyId.eq(survey_id))
        .filter(survey_versions::Column::Version.eq(version as i32))
        .one(conn)
        .await?)
}

/// All stored versions, newest first within each survey.
pub async fn survey_versions<C: ConnectionTrait>(conn: &C) -> Result<Vec<survey_versions::Model>> {
    Ok(survey_versions::Entity::find()
        .order_by_asc(survey_versions::Column::SurveyId)
        .order_by_desc(survey_versions::Column::Version)
        .all(conn)
        .await?)
}

/// The definition stored with a version (what its answers were collected under).
pub fn stored_definition(v: &survey_versions::Model) -> Result<capsurvey_survey::Survey> {
    serde_json::from_str(&v.definition)
        .map_err(|e| StoreError::Corrupt(format!("survey version {}: {e}", v.id)))
}

/// How far one survey version has got.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult, serde::Serialize)]
pub struct SurveyStatus {
    /// Survey id.
    pub survey_id: String,
    /// Version.
    pub version: i32,
    /// Facilities of the survey's type on the roster.
    pub facilities: i64,
    /// Facilities that were sent a form.
    pub mailed: i64,
    /// Facilities with a response.
    pub answered: i64,
    /// Responses with open review tasks.
    pub under_review: i64,
    /// Open review tasks not tied to a response (unidentified pages).
    pub open_tasks: i64,
}

/// Per stored survey version: facilities, mailed, answered, under review.
pub async fn status<C: ConnectionTrait>(conn: &C) -> Result<Vec<SurveyStatus>> {
    let sql = "SELECT sv.survey_id AS survey_id, sv.version AS version,
        (SELECT COUNT(*) FROM facilities f WHERE f.facility_type = sv.facility_type) AS facilities,
        (SELECT COUNT(DISTINCT m.facility_id) FROM mailings m WHERE m.survey_version_id = sv.id) AS mailed,
        (SELECT COUNT(*) FROM responses r WHERE r.survey_version_id = sv.id) AS answered,
        (SELECT COUNT(DISTINCT t.response_id) FROM review_tasks t
            WHERE t.survey_version_id = sv.id AND t.status = 'open' AND t.response_id IS NOT NULL) AS under_review,
        (SELECT COUNT(*) FROM review_tasks t
            WHERE t.survey_version_id = sv.id AND t.status = 'open' AND t.response_id IS NULL) AS open_tasks
        FROM survey_versions sv ORDER BY sv.survey_id, sv.version";
    let backend = conn.get_database_backend();
    Ok(
        SurveyStatus::find_by_statement(Statement::from_string(backend, sql))
            .all(conn)
            .await?,
    )
}

/// Open review tasks of pages nobody could identify yet (no survey known).
pub async fn unidentified_pages_open<C: ConnectionTrait>(conn: &C) -> Result<u64> {
    use crate::entity::review_tasks;
    Ok(review_tasks::Entity::find()
        .filter(review_tasks::Column::Kind.eq("page"))
        .filter(review_tasks::Column::Status.eq("open"))
        .filter(review_tasks::Column::SurveyVersionId.is_null())
        .count(conn)
        .await?)
}

/// Number of rows in the audit log (tests and summaries).
pub async fn audit_count<C: ConnectionTrait>(conn: &C) -> Result<u64> {
    Ok(audit_log::Entity::find().count(conn).await?)
}

/// Number of facilities on the roster.
pub async fn facility_count<C: ConnectionTrait>(conn: &C) -> Result<u64> {
    Ok(crate::entity::facilities::Entity::find()
        .count(conn)
        .await?)
}
