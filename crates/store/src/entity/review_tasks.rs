//! Something a person must decide: an uncertain mark, a write-in, an unidentified page, a value that did not fit, a conflict.

use sea_orm::entity::prelude::*;

#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel, serde::Serialize)]
#[sea_orm(table_name = "review_tasks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `mark`, `write_in`, `page`, `value`, `conflict`, `quality`.
    pub kind: String,
    pub survey_version_id: Option<i64>,
    pub response_id: Option<i64>,
    pub field_key: Option<String>,
    pub answer_id: Option<i64>,
    pub scanned_page_id: Option<i64>,
    /// What the machine saw (JSON): guess, confidence, raw text, crop path …
    pub payload: String,
    /// `open`, `done`.
    pub status: String,
    /// Optimistic-locking counter: a decision must name the version it saw.
    pub lock_version: i32,
    pub resolved_by: Option<String>,
    /// Who has the task open (claims expire: see `capsurvey_store::CLAIM_MINUTES`).
    pub claimed_by: Option<String>,
    pub claimed_at: Option<DateTimeUtc>,
    pub resolved_at: Option<DateTimeUtc>,
    /// A natural key so that re-running an import does not queue the same task twice.
    #[sea_orm(unique)]
    pub dedup_key: String,
    pub created_at: DateTimeUtc,
}

#[allow(missing_docs)]
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
