//! A file read by an import, by content hash: the same bytes are never imported twice.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "imported_files")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `roster`, `replies`, `scan`.
    pub kind: String,
    pub path: String,
    pub content_hash: String,
    pub size: i64,
    /// What the import did (JSON summary).
    pub summary: Option<String>,
    pub imported_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
