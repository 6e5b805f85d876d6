//! What one source file said about a facility: the raw record, kept for merging and audit.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "facility_sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub facility_id: i64,
    /// `navii`, `kaigo`, `kouseikyoku`, `local`.
    pub source_kind: String,
    /// The facility's key in that source (ナビイ ID, 医療機関コード, 事業所番号).
    pub source_key: String,
    pub imported_file_id: i64,
    /// 1-based line (CSV) or row (xlsx) in that file.
    pub line: i64,
    /// The raw fields as JSON (column name → value).
    pub record: String,
    pub updated_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
