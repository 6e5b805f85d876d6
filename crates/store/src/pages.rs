//! Scanned pages: every page received is kept, identified or not, and known by content hash.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use crate::Result;
use crate::entity::{mailings, responses, scanned_pages, survey_versions};
use crate::ops::now;

/// A page to record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewPage {
    /// Hash of the decoded pixels (the scan ingest uses XXH3-128 over size, resolution and
    /// pixels): the same page in another container is still the same page.
    pub content_hash: String,
    /// The file it came in.
    pub imported_file_id: Option<i64>,
    /// The file's path as given.
    pub source_file: String,
    /// 0-based page index in the file.
    pub page_index: i32,
    /// Survey version from the page code.
    pub survey_version_id: Option<i64>,
    /// Mailing from the page code (none for blank forms).
    pub mailing_id: Option<i64>,
    /// Page number from the page code.
    pub page_number: Option<i32>,
    /// `identified` or `unidentified`.
    pub status: String,
    /// The saved page image, relative to the data folder.
    pub image_path: Option<String>,
    /// The geometry found (JSON).
    pub transform: Option<String>,
}

/// The page with this content hash, if it was received before.
pub async fn page_by_hash<C: ConnectionTrait>(
    conn: &C,
    hash: &str,
) -> Result<Option<scanned_pages::Model>> {
    Ok(scanned_pages::Entity::find()
        .filter(scanned_pages::Column::ContentHash.eq(hash))
        .one(conn)
        .await?)
}

/// Records a page.
pub async fn insert_page<C: ConnectionTrait>(conn: &C, p: NewPage) -> Result<scanned_pages::Model> {
    Ok(scanned_pages::ActiveModel {
        content_hash: Set(p.content_hash),
        imported_file_id: Set(p.imported_file_id),
        source_file: Set(p.source_file),
        page_index: Set(p.page_index),
        survey_version_id: Set(p.survey_version_id),
        mailing_id: Set(p.mailing_id),
        page_number: Set(p.page_number),
        status: Set(p.status),
        image_path: Set(p.image_path),
        transform: Set(p.transform),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await?)
}

/// The mailing with this id.
pub async fn mailing_by_id<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<mailings::Model>> {
    Ok(mailings::Entity::find_by_id(id).one(conn).await?)
}

/// The survey version with this id.
pub async fn survey_version_by_id<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<survey_versions::Model>> {
    Ok(survey_versions::Entity::find_by_id(id).one(conn).await?)
}

/// Pages received for a mailing, by page number: what arrived and, by difference, what is missing.
pub async fn pages_of_mailing<C: ConnectionTrait>(
    conn: &C,
    mailing_id: i64,
) -> Result<Vec<scanned_pages::Model>> {
    Ok(scanned_pages::Entity::find()
        .filter(scanned_pages::Column::MailingId.eq(mailing_id))
        .order_by_asc(scanned_pages::Column::PageNumber)
        .all(conn)
        .await?)
}

/// The page with this id.
pub async fn page_by_id<C: ConnectionTrait>(
    conn: &C,
    id: i64,
) -> Result<Option<scanned_pages::Model>> {
    Ok(scanned_pages::Entity::find_by_id(id).one(conn).await?)
}

/// Sets a page's status (`identified` once an assigned page has been read again) and, when
/// given, its saved image and geometry.
pub async fn set_page_read<C: ConnectionTrait>(
    conn: &C,
    page: scanned_pages::Model,
    status: &str,
    transform: Option<String>,
) -> Result<scanned_pages::Model> {
    let mut a: scanned_pages::ActiveModel = page.into();
    a.status = Set(status.to_owned());
    if transform.is_some() {
        a.transform = Set(transform);
    }
    Ok(a.update(conn).await?)
}

/// Marks a response `complete` (every page of the form received, or a CSV row) or `partial`.
pub async fn set_response_status<C: ConnectionTrait>(
    conn: &C,
    response: responses::Model,
    status: &str,
) -> Result<()> {
    if response.status == status {
        return Ok(());
    }
    let mut a: responses::ActiveModel = response.into();
    a.status = Set(status.to_owned());
    a.updated_at = Set(now());
    a.update(conn).await?;
    Ok(())
}

/// Every page read from a form of a mailing (any mailing), with its mailing: the input of the
/// missing-pages list.
pub async fn pages_with_mailing<C: ConnectionTrait>(conn: &C) -> Result<Vec<scanned_pages::Model>> {
    Ok(scanned_pages::Entity::find()
        .filter(scanned_pages::Column::MailingId.is_not_null())
        .order_by_asc(scanned_pages::Column::MailingId)
        .order_by_asc(scanned_pages::Column::PageNumber)
        .all(conn)
        .await?)
}

/// The identified pages of a survey version, by id.
pub async fn pages_of_version<C: ConnectionTrait>(
    conn: &C,
    survey_version_id: i64,
) -> Result<Vec<scanned_pages::Model>> {
    Ok(scanned_pages::Entity::find()
        .filter(scanned_pages::Column::SurveyVersionId.eq(survey_version_id))
        .filter(scanned_pages::Column::Status.eq("identified"))
        .order_by_asc(scanned_pages::Column::Id)
        .all(conn)
        .await?)
}
