//! A page image received by FAX or scan; kept even when it cannot be identified.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "scanned_pages")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub content_hash: String,
    pub imported_file_id: Option<i64>,
    pub source_file: String,
    /// 0-based page index in the source file.
    pub page_index: i32,
    pub survey_version_id: Option<i64>,
    pub mailing_id: Option<i64>,
    pub page_number: Option<i32>,
    /// `identified`, `unidentified`, `assigned`.
    pub status: String,
    /// Where the page image is kept for review.
    pub image_path: Option<String>,
    /// Geometry found (JSON).
    pub transform: Option<String>,
    pub created_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
