//! One value of one field, with where it came from; replaced answers stay, marked superseded.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "answers")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub response_id: i64,
    /// `q08`, `q04.full`, `q16.9`.
    pub field_key: String,
    /// The value as JSON (`capsurvey_survey::Value`); null for 無回答.
    pub value: Option<String>,
    /// `scan`, `csv`, `person`.
    pub source_kind: String,
    /// Human-readable origin: `reply.tif p3`, `replies.csv row 12 col q08`, `user tanaka`.
    pub source_ref: String,
    pub scanned_page_id: Option<i64>,
    pub imported_file_id: Option<i64>,
    pub row_number: Option<i64>,
    pub person: Option<String>,
    pub confidence: Option<f64>,
    /// `accepted`, `review`, `superseded`.
    pub status: String,
    pub superseded_by: Option<i64>,
    pub created_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
